// bench/incremental_eval: what caching hidden states at layer boundaries buys when one layer's
// recipe changes (the GUI's "apply to layer k, see the perplexity"). A random-initialised Llama
// (default 8 layers, hidden 1024, ffn 2816, vocab 8192, written as float32 safetensors to a
// temporary directory) is evaluated on random tokens; then layer k is re-quantized (RTN
// int4-g128) and re-evaluated incrementally, for k = L-1, L/2 and 0, against a full evaluation of
// the same model. Prints seconds, layers re-run, speed-up and |ppl difference|.
//   usage: incremental_eval [--layers 8] [--hidden 1024] [--windows 16] [--seqlen 512]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bench/bench_common.h"
#include "core/eval/incremental_perplexity.h"
#include "core/eval/perplexity.h"
#include "core/io/safetensors_writer.h"
#include "core/quant/fake_quantize.h"
#include "core/util/threading.h"

namespace fs = std::filesystem;

namespace {

using qs_bench::Clock;
using qs_bench::seconds_since;

long long option(int argc, char** argv, const std::string& name, long long fallback)
{
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == "--" + name) return std::atoll(argv[i + 1]);
    return fallback;
}

void write_random_llama(const std::string& dir, std::int64_t layers, std::int64_t hidden,
                        std::int64_t vocab)
{
    const std::int64_t ffn = hidden * 11 / 4, heads = hidden / 64;
    torch::manual_seed(0);
    nlohmann::json config = {{"model_type", "llama"},        {"hidden_size", hidden},
                             {"intermediate_size", ffn},     {"num_hidden_layers", layers},
                             {"num_attention_heads", heads}, {"num_key_value_heads", heads},
                             {"vocab_size", vocab},          {"max_position_embeddings", 4096},
                             {"rms_norm_eps", 1e-5},         {"rope_theta", 10000.0},
                             {"tie_word_embeddings", false}};
    fs::create_directories(dir);
    std::ofstream(dir + "/config.json") << config.dump(2);
    qs::SafetensorsWriter writer;
    std::vector<torch::Tensor> keep;
    auto add = [&](const std::string& name, torch::Tensor t) {
        keep.push_back(t.contiguous());
        writer.add_f32(name, keep.back().sizes().vec(), keep.back().data_ptr<float>());
    };
    auto linear = [](std::int64_t out, std::int64_t in) {
        return torch::randn({out, in}) / std::sqrt(double(in));
    };
    add("model.embed_tokens.weight", torch::randn({vocab, hidden}));
    for (std::int64_t i = 0; i < layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        add(p + "input_layernorm.weight", torch::ones({hidden}));
        add(p + "post_attention_layernorm.weight", torch::ones({hidden}));
        for (const char* m : {"q_proj", "k_proj", "v_proj", "o_proj"})
            add(p + "self_attn." + m + ".weight", linear(hidden, hidden));
        add(p + "mlp.gate_proj.weight", linear(ffn, hidden));
        add(p + "mlp.up_proj.weight", linear(ffn, hidden));
        add(p + "mlp.down_proj.weight", linear(hidden, ffn));
    }
    add("model.norm.weight", torch::ones({hidden}));
    add("lm_head.weight", linear(vocab, hidden));
    writer.write(dir + "/model.safetensors");
}

}  // namespace

int main(int argc, char** argv)
{
    qs::configure_threads();
    const auto layers = option(argc, argv, "layers", 8);
    const auto hidden = option(argc, argv, "hidden", 1024);
    const auto windows = option(argc, argv, "windows", 16);
    const auto seqlen = option(argc, argv, "seqlen", 512);
    const std::int64_t vocab = 8192;
    std::printf("runtime: %s\n", qs::runtime_summary().c_str());
    const std::string dir = (fs::temp_directory_path() / "qs-bench-incremental").string();
    write_random_llama(dir, layers, hidden, vocab);
    auto model = qs::CausalLM::open(dir, torch::kCPU, false);

    torch::manual_seed(1);
    auto ids = torch::randint(0, vocab, {windows * seqlen}, torch::kInt);
    std::vector<std::int32_t> tokens(ids.data_ptr<std::int32_t>(),
                                     ids.data_ptr<std::int32_t>() + ids.numel());
    qs::PerplexityOptions options;
    options.seqlen = seqlen;
    const auto format = qs::QuantFormat::parse("int4-g128-asym");
    int quantized_layer = -1;
    auto provider = [&](int layer) {
        qs::LayerWeights w = model->load_layer(layer);
        if (layer == quantized_layer)
            for (const auto& [name, t] : std::map<std::string, torch::Tensor>(w.all()))
                if (t.dim() == 2) w.set(name, qs::fake_quantize_weight(t, format));
        return w;
    };

    qs::IncrementalPerplexity incremental(*model, tokens, options, 4096);
    auto t0 = Clock::now();
    const double base = incremental.evaluate(provider, 0).ppl;
    const double first_seconds = seconds_since(t0);
    std::printf(
        "model: %lld layers, hidden %lld, %lld windows x %lld tokens; boundary cache "
        "%.1f MB (stride %d)\n",
        (long long)layers, (long long)hidden, (long long)windows, (long long)seqlen,
        incremental.cached_bytes() / 1e6, incremental.stride());
    std::printf("first evaluation (fills the cache): %.2f s, ppl %.4f\n", first_seconds, base);
    t0 = Clock::now();
    const double plain = qs::evaluate_perplexity(*model, tokens, options).ppl;
    std::printf("evaluate_perplexity (no cache): %.2f s, ppl %.4f (|diff| %.2e)\n",
                seconds_since(t0), plain, std::abs(plain - base));
    std::printf("| changed layer | incremental s | layers re-run | full s | speed-up | |dppl| |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (long long k : {layers - 1, layers / 2, 0LL}) {
        quantized_layer = int(k);
        t0 = Clock::now();
        const double inc = incremental.evaluate(provider, int(k)).ppl;
        const double inc_s = seconds_since(t0);
        const int rerun = incremental.layers_run_last();
        qs::IncrementalPerplexity fresh(*model, tokens, options, 4096);
        t0 = Clock::now();
        const double full_q = fresh.evaluate(provider, 0).ppl;  // every layer and the head
        const double full_s = seconds_since(t0);
        std::printf("| %lld | %.3f | %d | %.3f | %.1fx | %.2e |\n", k, inc_s, rerun, full_s,
                    full_s / inc_s, std::abs(inc - full_q));
        // Restore layer k to full precision for the next row.
        quantized_layer = -1;
        incremental.evaluate(provider, int(k));
    }
    fs::remove_all(dir);
    return 0;
}
