// quantscope-cli synth: writes a random-initialised Llama of real shapes (optionally with
// planted activation and weight outliers) as a Hugging Face folder, for studies and benchmarks
// of model sizes this machine cannot download (core/model/random_llama.h).
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/model/random_llama.h"
#include "core/util/error.h"

namespace qs::cli {

int run_synth(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"out", true, "folder to write (config.json, safetensors shards, index)"},
        {"preset", true, "tiny (default: 6 layers, hidden 256) or llama-2-7b"},
        {"hidden", true, "hidden_size"},
        {"intermediate", true, "intermediate_size"},
        {"layers", true, "num_hidden_layers"},
        {"heads", true, "num_attention_heads"},
        {"kv-heads", true, "num_key_value_heads"},
        {"vocab", true, "vocab_size"},
        {"dtype", true, "f32, f16 or bf16 (default: the preset's)"},
        {"seed", true, "random seed (default 0)"},
        {"outlier-channels", true, "hidden channels with raised RMSNorm gains (default 0)"},
        {"outlier-gain", true, "gain of those channels in the last layer (default 20)"},
        {"weight-outlier-columns", true, "down_proj input columns scaled up (default 0)"},
        {"weight-outlier-scale", true, "scale of those columns (default 8)"},
        {"tokenizer-from", true, "copy the tokenizer of this model folder"},
        {"force", false, "replace an existing model folder"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << "usage: quantscope-cli synth --out DIR [--preset tiny|llama-2-7b] "
                     "[shape options] [outlier options]\n\n"
                  << format_options(specs);
        return 0;
    }
    RandomLlamaSpec spec = random_llama_preset(args.get_or("preset", "tiny"));
    spec.hidden_size = args.get_int("hidden", spec.hidden_size);
    spec.intermediate_size = args.get_int("intermediate", spec.intermediate_size);
    spec.num_layers = static_cast<int>(args.get_int("layers", spec.num_layers));
    spec.num_heads = static_cast<int>(args.get_int("heads", spec.num_heads));
    spec.num_kv_heads = static_cast<int>(args.get_int("kv-heads", spec.num_kv_heads));
    spec.vocab_size = args.get_int("vocab", spec.vocab_size);
    spec.seed = static_cast<std::uint64_t>(args.get_int("seed", 0));
    spec.outlier_channels = static_cast<int>(args.get_int("outlier-channels", 0));
    spec.outlier_gain = std::stod(args.get_or("outlier-gain", "20"));
    spec.weight_outlier_columns = static_cast<int>(args.get_int("weight-outlier-columns", 0));
    spec.weight_outlier_scale = std::stod(args.get_or("weight-outlier-scale", "8"));
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
    const std::string out = args.get("out");
    write_random_llama(spec, out, args.has("force"), &feedback);
    std::printf("%s: random Llama, %d layers, hidden %lld, intermediate %lld, vocab %lld\n",
                out.c_str(), spec.num_layers, (long long)spec.hidden_size,
                (long long)spec.intermediate_size, (long long)spec.vocab_size);
    return 0;
}

}  // namespace qs::cli
