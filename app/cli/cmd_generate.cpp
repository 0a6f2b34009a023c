#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/cli_inputs.h"
#include "app/cli/commands.h"
#include "core/eval/generate.h"
#include "core/util/device.h"

namespace qs::cli {

int run_generate(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"model", true, "model folder (required)", "DIR"},
        {"prompt", true, "prompt text; BOS is added as the tokenizer config says (required)",
         "TEXT"},
        {"max-new-tokens", true, "tokens to generate (default 64)", "N"},
        {"ignore-eos", false, "keep generating after the end-of-sequence token"},
        {"device", true, "cpu (default) or cuda:N", "DEV"},
        {"dtype", true,
         "compute dtype: fp32 (default), bf16 or fp16; norms, softmax and logits stay fp32",
         "TYPE"},
        {"json", false, "print {prompt_tokens, new_tokens, text} as JSON"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << format_help(
            {{"quantscope-cli generate --model DIR --prompt TEXT [--max-new-tokens N] [--json]"},
             "Continues a prompt with greedy decoding (argmax at every step) and prints the "
             "prompt followed by the new text.",
             "Fake-quantized checkpoints (quantscope-cli quantize) run with their activation "
             "quantization.\n",
             {"quantscope-cli generate --model ../shared/models/stories260K/hf \\",
              "    --prompt \"Once upon a time\" --max-new-tokens 32"}},
            specs);
        return 0;
    }
    auto device = parse_device(args.get_or("device", "cpu"));
    const auto dtype = compute_dtype_arg(args);
    const std::string prompt = args.get("prompt");
    GenerateOptions options;
    options.max_new_tokens = args.get_int("max-new-tokens", 64);
    if (options.max_new_tokens < 0) throw UsageError("--max-new-tokens must be >= 0");
    options.stop_at_eos = !args.has("ignore-eos");

    auto model = CausalLM::open(model_dir_arg(args), device, /*with_tokenizer=*/true, dtype);
    auto prompt_tokens = model->tokenizer().encode(prompt);
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet"));
    auto new_tokens = generate_greedy(*model, prompt_tokens, options, &feedback);
    const std::string text = model->tokenizer().decode(new_tokens);
    if (args.has("json")) {
        nlohmann::json j{
            {"prompt_tokens", prompt_tokens}, {"new_tokens", new_tokens}, {"text", text}};
        std::cout << j.dump() << "\n";
    } else {
        std::cout << prompt << text << "\n";
    }
    return 0;
}

}  // namespace qs::cli
