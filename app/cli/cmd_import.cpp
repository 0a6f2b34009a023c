#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/export/import_checkpoint.h"

namespace qs::cli {

int run_import(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"in", true,
         "GPTQ / AWQ / compressed-tensors / QuantScope MX checkpoint folder, or a llama.cpp .gguf "
         "file"},
        {"out", true, "output folder: a Hugging Face float checkpoint every command opens"},
        {"dtype", true, "float32 (default, dequantized values exact) or float16"},
        {"force", false, "replace an existing output folder"},
        {"json", false, "print a JSON summary"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << "usage: quantscope-cli import --in PATH --out DIR [--dtype float16] "
                     "[--force]\n\n"
                     "Dequantizes a checkpoint another tool produced (quant_method gptq, awq, "
                     "compressed-tensors\npack-quantized, or GGUF) into a float checkpoint for "
                     "analysis.\n\n"
                  << format_options(specs);
        return 0;
    }
    const std::string dtype_name = args.get_or("dtype", "float32");
    if (dtype_name != "float32" && dtype_name != "float16")
        throw UsageError("--dtype must be float32 or float16, not '" + dtype_name + "'");
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet") || args.has("json"));
    const ImportSummary summary =
        import_checkpoint(args.get("in"), args.get("out"), args.has("force"), &feedback,
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
