#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/cli_inputs.h"
#include "app/cli/commands.h"
#include "app/cli/recipe_check.h"
#include "core/analysis/model_size.h"
#include "core/export/checkpoint_export.h"
#include "core/export/export_gguf.h"
#include "core/model/model_info.h"
#include "core/util/device.h"
#include "core/util/error.h"

namespace qs::cli {
namespace {

std::uintmax_t folder_bytes(const std::string& dir)
{
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
        if (entry.is_regular_file()) total += entry.file_size();
    return total;
}

// The recipe and the size the analysis counts for it (core/analysis/model_size.h), for --json
// summaries to compare with the bytes on disk.
nlohmann::json recipe_size_json(const CausalLM& model, const Recipe& recipe)
{
    const ModelSize size = model_size(ModelInfo::load(model.directory()), recipe);
    return {{"recipe", recipe.name},
            {"model_size_bytes", size.bytes()},
            {"bits_per_weight", size.bits_per_weight()},
            {"linear_bits_per_weight", size.linear_bits_per_weight()}};
}

// --format gguf: llama.cpp's file, from the float weights or from a recipe's values.
int run_gguf_export(const Args& args)
{
    const auto type = parse_gguf_export_type(args.get_or("gguf-type", "f16"));
    std::optional<Recipe> recipe;
    if (args.has("recipe")) recipe = load_recipe_arg(args);
    const std::string out = args.get("out");
    const std::string model_dir = model_dir_arg(args);
    check_output_free(out, args.has("force"));
    if (recipe)
        if (auto why = gguf_recipe_refusal(*recipe, type); !why.empty()) throw QsError(why);
    auto model = CausalLM::open(model_dir, parse_device(args.get_or("device", "cpu")),
                                /*with_tokenizer=*/true, compute_dtype_arg(args));
    if (recipe)
        for (const auto& w : recipe_warnings(*recipe, model.get()))
            std::fprintf(stderr, "warning: %s\n", w.c_str());
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet"));
    const auto result =
        export_gguf(*model, recipe ? &*recipe : nullptr, type, out, args.has("force"), &feedback);
    const auto bytes = folder_bytes(result.output_dir);
    if (args.has("json")) {
        nlohmann::json j{{"format", "gguf"},
                         {"gguf_type", gguf::tensor_type_name(type)},
                         {"out", result.output_dir},
                         {"file", result.gguf_path},
                         {"bytes", bytes},
                         {"fallback_tensors", result.fallback_tensors},
                         {"exact_linears", result.exact_linears}};
        if (recipe) j.update(recipe_size_json(*model, *recipe));
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::printf("exported %s as GGUF %s -> %s (%ju bytes)\n", model->directory().c_str(),
                args.get_or("gguf-type", "f16").c_str(), result.gguf_path.c_str(), bytes);
    for (const auto& name : result.fallback_tensors)
        std::printf("  %s: rows are not whole blocks, written as %s%s\n", name.c_str(),
                    gguf::tensor_type_name(result.fallback_type),
                    recipe ? " (exact)" : " (as llama.cpp does)");
    if (recipe)
        std::printf("  %d quantized linears hold recipe %s's values exactly\n",
                    result.exact_linears, recipe->name.c_str());
    return 0;
}

}  // namespace

int run_export(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"model", true, "model folder (required)", "DIR"},
        {"recipe", true,
         "recipe YAML (docs/recipes.md); required except for gguf, where without it the float "
         "weights are converted with llama.cpp's own rule",
         "FILE"},
        {"format", true,
         "fake, gptq, awq, compressed-tensors, mx or gguf (required; docs/checkpoint-formats.md)",
         "NAME"},
        {"gguf-type", true,
         "gguf: f32, f16 (default), q8_0, q4_0 or mxfp4; with --recipe, q8_0 / q4_0 take "
         "symmetric INT recipes with one scale per 32 weights (e.g. int4-g32-sym) and mxfp4 "
         "takes mxfp4-32",
         "TYPE"},
        {"out", true, "output folder (required)", "DIR"},
        {"force", false, "replace an existing output folder"},
        {"gptq-v2", false,
         "gptq: GPTQModel's checkpoint_format gptq_v2, which holds zero points of 0 (default: "
         "AutoGPTQ's v1)"},
        {"fp16-scales", false,
         "fake: INT scales rounded to fp16, the very weights the packed formats store"},
        {"device", true, "cpu (default) or cuda:N", "DEV"},
        {"dtype", true,
         "compute dtype of the calibration forward: fp32 (default), bf16 or fp16; the weights "
         "are quantized in fp32",
         "TYPE"},
        {"json", false, "print a JSON summary"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << format_help(
            {{"quantscope-cli export --model DIR --recipe FILE --out DIR [--force]",
              "                      --format fake|gptq|awq|compressed-tensors|mx [--gptq-v2]",
              "quantscope-cli export --model DIR --format gguf [--gguf-type TYPE] [--recipe FILE]",
              "                      --out DIR [--force]"},
             "Quantizes a model with a recipe and writes the checkpoint in a format other tools "
             "load: AutoGPTQ / GPTQModel, AutoAWQ, llm-compressor / vLLM, QuantScope's MX "
             "container, or llama.cpp's GGUF.",
             "Every export is read back and compared with the quantized weights bit for bit "
             "before it is moved\ninto place. A recipe the format cannot hold is refused before "
             "anything is written, naming the\nformats that fit (quantize --dry-run --model DIR "
             "lists them).\n",
             {"quantscope-cli export --model ../shared/models/stories260K/hf \\",
              "    --recipe resources/recipes/gptq-w4g32-sym.yaml --format gptq --out /tmp/s-gptq",
              "quantscope-cli export --model ../shared/models/stories260K/hf \\",
              "    --recipe resources/recipes/gptq-w4g32-sym.yaml --format gguf --gguf-type q4_0 "
              "\\",
              "    --out /tmp/s-q4_0"}},
            specs);
        return 0;
    }
    const std::string format_name = args.get("format");
    if (format_name == "gguf") return run_gguf_export(args);
    if (args.has("gguf-type"))
        throw UsageError("--gguf-type goes with --format gguf, not --format " + format_name);
    std::vector<std::string> known = {"gguf"};
    for (auto f : all_export_formats())
        known.insert(known.end() - 1, export_format_name(f));
    if (std::find(known.begin(), known.end(), format_name) == known.end()) {
        const std::string near = closest_name(format_name, known);
        std::string list;
        for (const auto& k : known)
            list += (list.empty() ? "" : ", ") + k;
        throw UsageError("unknown --format '" + format_name + "'" +
                         (near.empty() ? "" : " (did you mean " + near + "?)") +
                         "; known: " + list);
    }
    const ExportFormat format = parse_export_format(format_name);
    if (!args.has("recipe"))
        throw UsageError("--format " + format_name +
                         " needs --recipe FILE (only gguf converts float weights without one)");
    Recipe recipe = load_recipe_arg(args);
    const std::string out = args.get("out");
    const std::string model_dir = model_dir_arg(args);
    check_output_free(out, args.has("force"));
    auto model = CausalLM::open(model_dir, parse_device(args.get_or("device", "cpu")),
                                /*with_tokenizer=*/true, compute_dtype_arg(args));
    for (const auto& w : recipe_warnings(recipe, model.get()))
        std::fprintf(stderr, "warning: %s\n", w.c_str());
    ExportOptions options;
    options.force = args.has("force");
    options.gptq_v2 = args.has("gptq-v2");
    options.fp16_scales = args.has("fp16-scales");
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet"));
    auto result = export_checkpoint(*model, recipe, format, out, options, &feedback);
    const auto bytes = folder_bytes(result.output_dir);
    if (args.has("json")) {
        nlohmann::json j{{"format", export_format_name(format)},
                         {"out", result.output_dir},
                         {"bytes", bytes},
                         {"intermediate_size", result.intermediate_size}};
        j.update(recipe_size_json(*model, recipe));
        std::cout << j.dump() << "\n";
        return 0;
    }
    // The analysis' size of the recipe (core/analysis/model_size.h), to compare with the disk.
    const ModelSize size = model_size(ModelInfo::load(model->directory()), recipe);
    std::printf(
        "exported %s with %s as %s -> %s (%ju bytes on disk; the analysis counts %lld "
        "bytes, %.3f bits per weight)\n",
        model->directory().c_str(), recipe.name.c_str(), export_format_name(format).c_str(),
        result.output_dir.c_str(), bytes, static_cast<long long>(size.bytes()),
        size.bits_per_weight());
    if (result.intermediate_size != model->config().intermediate_size)
        std::printf("MLP intermediate size zero-padded from %lld to %lld for the layout\n",
                    static_cast<long long>(model->config().intermediate_size),
                    static_cast<long long>(result.intermediate_size));
    return 0;
}

}  // namespace qs::cli
