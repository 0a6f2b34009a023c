#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/cli_inputs.h"
#include "app/cli/commands.h"
#include "core/export/import_checkpoint.h"
#include "core/util/error.h"

namespace qs::cli {

int run_import(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"in", true,
         "GPTQ / AWQ / compressed-tensors / QuantScope MX checkpoint folder, or a llama.cpp .gguf "
         "file (required)",
         "PATH"},
        {"out", true,
         "output folder: a Hugging Face float checkpoint every command opens (required)", "DIR"},
        {"dtype", true, "float32 (default: every dequantized value exact) or float16", "TYPE"},
        {"force", false, "replace an existing output folder"},
        {"json", false, "print a JSON summary"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << format_help(
            {{"quantscope-cli import --in PATH --out DIR [--dtype float16] [--force]"},
             "Dequantizes a checkpoint another tool produced into a float checkpoint, so every "
             "analysis, eval and the GUI run on it.",
             "Reads config.json quantization_config.quant_method gptq (checkpoint_format gptq or "
             "gptq_v2), awq\n(version gemm), compressed-tensors (pack-quantized, "
             "mxfp4-pack-quantized) and quantscope-mx\nfolders, and GGUF files (F32, F16, Q8_0, "
             "Q4_0, MXFP4, Q2_K..Q6_K). Weights are dequantized as the\nreference loaders do "
             "(docs/checkpoint-formats.md).\n",
             {"quantscope-cli import --in /tmp/s-gptq --out /tmp/s-gptq-float"}},
            specs);
        return 0;
    }
    const std::string in = args.get("in");
    if (std::error_code ec; !std::filesystem::exists(in, ec))
        fail_file(in,
                  "does not exist (--in takes a quantized checkpoint folder or a "
                  ".gguf file)");
    check_output_free(args.get("out"), args.has("force"));
    const std::string dtype_name = args.get_or("dtype", "float32");
    if (dtype_name != "float32" && dtype_name != "float16")
        throw UsageError("--dtype must be float32 or float16, not '" + dtype_name + "'");
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet") || args.has("json"));
    const ImportSummary summary =
        import_checkpoint(in, args.get("out"), args.has("force"), &feedback,
                          dtype_name == "float16" ? DType::F16 : DType::F32);
    if (args.has("json")) {
        nlohmann::json j = {{"in", args.get("in")},
                            {"out", summary.out_dir},
                            {"format", summary.source_format},
                            {"dequantized_tensors", summary.dequantized_tensors},
                            {"tensors", summary.tensors},
                            {"tokenizer", summary.has_tokenizer},
                            {"notes", summary.notes}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "imported " << summary.source_format << " checkpoint into " << summary.out_dir
              << " (" << summary.tensors << " tensors)\n";
    for (const auto& note : summary.notes)
        std::cout << "  " << note << "\n";
    if (!summary.has_tokenizer)
        std::cout << "  no tokenizer: commands that need text (eval, generate) cannot use this "
                     "folder until a tokenizer is added\n";
    return 0;
}

}  // namespace qs::cli
