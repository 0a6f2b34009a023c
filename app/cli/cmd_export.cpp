#include <cstdio>
#include <optional>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/analysis/model_size.h"
#include "core/export/checkpoint_export.h"
#include "core/export/export_gguf.h"
#include "core/model/model_info.h"
#include "core/util/device.h"

namespace qs::cli {
namespace {

std::uintmax_t folder_bytes(const std::string& dir)
{
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
        if (entry.is_regular_file()) total += entry.file_size();
    return total;
}

// --format gguf: llama.cpp's file, from the float weights or from a recipe's values.
int run_gguf_export(const Args& args)
{
    const auto type = parse_gguf_export_type(args.get_or("gguf-type", "f16"));
    std::optional<Recipe> recipe;
    if (args.has("recipe")) recipe = Recipe::load(args.get("recipe"));
    auto model = CausalLM::open(args.get("model"), parse_device(args.get_or("device", "cpu")));
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet"));
    const auto result = export_gguf(*model, recipe ? &*recipe : nullptr, type, args.get("out"),
                                    args.has("force"), &feedback);
    const auto bytes = folder_bytes(result.output_dir);
    if (args.has("json")) {
        nlohmann::json j{{"format", "gguf"},
                         {"gguf_type", gguf::tensor_type_name(type)},
                         {"out", result.output_dir},
                         {"file", result.gguf_path},
                         {"bytes", bytes},
                         {"fallback_tensors", result.fallback_tensors},
                         {"exact_linears", result.exact_linears}};
        if (recipe) {
            const ModelSize size = model_size(ModelInfo::load(model->directory()), *recipe);
            j["recipe"] = recipe->name;
            j["model_size_bytes"] = size.bytes();
            j["bits_per_weight"] = size.bits_per_weight();
            j["linear_bits_per_weight"] = size.linear_bits_per_weight();
        }
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
        {"model", true, "model directory"},
        {"recipe", true,
         "recipe YAML (optional for gguf: without it, llama.cpp's own rule; q8_0/q4_0 take "
         "symmetric INT recipes with one scale per 32 weights, e.g. int4-g32-sym, mxfp4 takes "
         "mxfp4-32)"},
        {"format", true, "fake, gptq, awq, compressed-tensors, mx or gguf"},
        {"gguf-type", true, "gguf: f32, f16, q8_0, q4_0 or mxfp4 (default f16)"},
        {"out", true, "output directory"},
        {"force", false, "replace an existing output directory"},
        {"gptq-v2", false, "gptq: GPTQModel's checkpoint_format gptq_v2 (holds zero points of 0)"},
        {"fp16-scales", false,
         "fake: INT scales rounded to fp16, the weights the packed formats store"},
        {"device", true, "cpu (default) or cuda:N"},
        {"json", false, "print a JSON summary"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << "usage: quantscope-cli export --model DIR --recipe FILE --format "
                     "fake|gptq|awq|compressed-tensors|mx --out DIR [--force]\n"
                     "       quantscope-cli export --model DIR --format gguf --gguf-type "
                     "f32|f16|q8_0|q4_0|mxfp4 [--recipe FILE] --out DIR [--force]\n\n"
                  << format_options(specs);
        return 0;
    }
    if (args.get("format") == "gguf") return run_gguf_export(args);
    const ExportFormat format = parse_export_format(args.get("format"));
    Recipe recipe = Recipe::load(args.get("recipe"));
    for (const auto& w : recipe.warnings())
        std::fprintf(stderr, "warning: %s\n", w.c_str());
    auto model = CausalLM::open(args.get("model"), parse_device(args.get_or("device", "cpu")));
    ExportOptions options;
    options.force = args.has("force");
    options.gptq_v2 = args.has("gptq-v2");
    options.fp16_scales = args.has("fp16-scales");
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet"));
    auto result = export_checkpoint(*model, recipe, format, args.get("out"), options, &feedback);
    const auto bytes = folder_bytes(result.output_dir);
    // The analysis' size of the recipe (core/analysis/model_size.h), to compare with the disk.
    const ModelSize size = model_size(ModelInfo::load(model->directory()), recipe);
    if (args.has("json")) {
        std::cout << nlohmann::json{{"recipe", recipe.name},
                                    {"format", export_format_name(format)},
                                    {"out", result.output_dir},
                                    {"bytes", bytes},
                                    {"model_size_bytes", size.bytes()},
                                    {"bits_per_weight", size.bits_per_weight()},
                                    {"linear_bits_per_weight", size.linear_bits_per_weight()},
                                    {"intermediate_size", result.intermediate_size}}
                         .dump()
                  << "\n";
        return 0;
    }
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
