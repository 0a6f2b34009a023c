// quantscope-cli synth: writes a random-initialised Llama of real shapes (optionally with
// planted activation and weight outliers) as a Hugging Face folder, for studies and benchmarks
// of model sizes this machine cannot download (core/model/random_llama.h).
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/cli_inputs.h"
#include "app/cli/commands.h"
#include "core/model/random_llama.h"
#include "core/util/error.h"

namespace qs::cli {

int run_synth(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"out", true, "folder to write: config.json, safetensors shards and index (required)",
         "DIR"},
        {"preset", true,
         "tiny (default: 6 layers, hidden 256, intermediate 688, 8 heads, 4 KV heads, vocab "
         "512, float32) or llama-2-7b (32 layers, hidden 4096, intermediate 11008, vocab 32000, "
         "float16)",
         "NAME"},
        {"hidden", true, "hidden_size (default: the preset's)", "N"},
        {"intermediate", true, "intermediate_size (default: the preset's)", "N"},
        {"layers", true, "num_hidden_layers (default: the preset's)", "N"},
        {"heads", true, "num_attention_heads (default: the preset's)", "N"},
        {"kv-heads", true, "num_key_value_heads (default: the preset's)", "N"},
        {"vocab", true, "vocab_size (default: the preset's)", "N"},
        {"dtype", true, "f32, f16 or bf16 (default: the preset's)", "TYPE"},
        {"seed", true, "random seed (default 0)", "N"},
        {"outlier-channels", true, "hidden channels with raised RMSNorm gains (default 0)", "N"},
        {"outlier-gain", true, "gain of those channels in the last layer (default 20)", "X"},
        {"weight-outlier-columns", true, "down_proj input columns scaled up (default 0)", "N"},
        {"weight-outlier-scale", true, "scale of those columns (default 8)", "X"},
        {"tokenizer-from", true,
         "copy the tokenizer of this model folder (its vocabulary must fit --vocab; default: no "
         "tokenizer)",
         "DIR"},
        {"force", false, "replace an existing model folder"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << format_help(
            {{"quantscope-cli synth --out DIR [--preset tiny|llama-2-7b] [shape options] "
              "[outlier options]"},
             "Writes a random-initialised Llama of real shapes as a Hugging Face folder, "
             "optionally with planted activation and weight outliers, for studies and benchmarks "
             "of models that cannot be downloaded.",
             "",
             {"quantscope-cli synth --out /tmp/outliers --outlier-channels 4 \\",
              "    --tokenizer-from ../shared/models/stories260K/hf"}},
            specs);
        return 0;
    }
    const std::string out = args.get("out");
    check_output_free(out, args.has("force"));
    RandomLlamaSpec spec = random_llama_preset(args.get_or("preset", "tiny"));
    spec.hidden_size = args.get_int("hidden", spec.hidden_size);
    spec.intermediate_size = args.get_int("intermediate", spec.intermediate_size);
    spec.num_layers = static_cast<int>(args.get_int("layers", spec.num_layers));
    spec.num_heads = static_cast<int>(args.get_int("heads", spec.num_heads));
    spec.num_kv_heads = static_cast<int>(args.get_int("kv-heads", spec.num_kv_heads));
    spec.vocab_size = args.get_int("vocab", spec.vocab_size);
    spec.seed = static_cast<std::uint64_t>(args.get_int("seed", 0));
    spec.outlier_channels = static_cast<int>(args.get_int("outlier-channels", 0));
    spec.outlier_gain = args.get_double("outlier-gain", spec.outlier_gain);
    spec.weight_outlier_columns = static_cast<int>(args.get_int("weight-outlier-columns", 0));
    spec.weight_outlier_scale = args.get_double("weight-outlier-scale", spec.weight_outlier_scale);
    spec.tokenizer_from = args.get_or("tokenizer-from", "");
    if (args.has("dtype")) {
        const std::string d = args.get("dtype");
        if (d == "f32")
            spec.dtype = DType::F32;
        else if (d == "f16")
            spec.dtype = DType::F16;
        else if (d == "bf16")
            spec.dtype = DType::BF16;
        else
            throw UsageError("--dtype must be f32, f16 or bf16, not '" + d + "'");
    }
    Feedback feedback;
    attach_stderr_progress(feedback, false);
    write_random_llama(spec, out, args.has("force"), &feedback);
    std::printf("%s: random Llama, %d layers, hidden %lld, intermediate %lld, vocab %lld\n",
                out.c_str(), spec.num_layers, (long long)spec.hidden_size,
                (long long)spec.intermediate_size, (long long)spec.vocab_size);
    return 0;
}

}  // namespace qs::cli
