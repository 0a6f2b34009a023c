// bench/eval_throughput: forward-pass speed and open-cost of a model with Llama-2-7B layer
// shapes (hidden 4096, intermediate 11008, 32 heads, vocab 32000), random-initialised, written
// as F16 safetensors, 2 decoder layers, evaluated at seqlen 2048.
// Prints tokens/s, achieved GFLOP/s against torch::mm GFLOP/s measured in the same run, and
// RSS before/after opening the model. The model is written by a forked child so the measuring
// process never held its bytes.
//   usage: eval_throughput [--dir DIR] [--layers 2] [--seqlen 2048] [--windows 1] [--keep]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <torch/torch.h>

#include "core/eval/perplexity.h"
#include "core/io/safetensors_writer.h"
#include "core/model/causal_lm.h"
#include "core/util/threading.h"

namespace {

struct Shape {
    std::int64_t hidden = 4096, intermediate = 11008, heads = 32, vocab = 32000, layers = 2;
};

double rss_mb(const char* key)  // "VmRSS" or "VmHWM"
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stod(line.substr(std::strlen(key) + 1)) / 1024.0;
    return 0;
}

void add_random_f16(qs::SafetensorsWriter& writer, const std::string& name,
                    std::vector<std::int64_t> shape, double std_dev)
{
    auto t = (torch::randn(shape) * std_dev).to(torch::kFloat16).contiguous();
    std::vector<std::uint8_t> bytes(t.numel() * 2);
    std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
    writer.add(name, qs::DType::F16, shape, std::move(bytes));
}

void add_ones_f16(qs::SafetensorsWriter& writer, const std::string& name, std::int64_t n)
{
    auto t = torch::ones({n}, torch::kFloat16);
    std::vector<std::uint8_t> bytes(n * 2);
    std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
    writer.add(name, qs::DType::F16, {n}, std::move(bytes));
}

void write_model(const std::string& dir, const Shape& s)
{
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/config.json")
        << "{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"],"
        << "\"hidden_size\":" << s.hidden << ",\"intermediate_size\":" << s.intermediate
        << ",\"num_hidden_layers\":" << s.layers << ",\"num_attention_heads\":" << s.heads
        << ",\"num_key_value_heads\":" << s.heads << ",\"vocab_size\":" << s.vocab
        << ",\"max_position_embeddings\":4096,\"rms_norm_eps\":1e-5,\"rope_theta\":10000.0,"
        << "\"hidden_act\":\"silu\",\"tie_word_embeddings\":false,\"torch_dtype\":\"float16\","
        << "\"bos_token_id\":1,\"eos_token_id\":2}";
    torch::manual_seed(0);
    qs::SafetensorsWriter w;
    add_random_f16(w, "model.embed_tokens.weight", {s.vocab, s.hidden}, 0.02);
    add_random_f16(w, "lm_head.weight", {s.vocab, s.hidden}, 0.02);
    add_ones_f16(w, "model.norm.weight", s.hidden);
    for (std::int64_t i = 0; i < s.layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        for (const char* m : {"q_proj", "k_proj", "v_proj", "o_proj"})
            add_random_f16(w, p + "self_attn." + m + ".weight", {s.hidden, s.hidden}, 0.02);
        add_random_f16(w, p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}, 0.02);
        add_random_f16(w, p + "mlp.up_proj.weight", {s.intermediate, s.hidden}, 0.02);
        add_random_f16(w, p + "mlp.down_proj.weight", {s.hidden, s.intermediate}, 0.02);
        add_ones_f16(w, p + "input_layernorm.weight", s.hidden);
        add_ones_f16(w, p + "post_attention_layernorm.weight", s.hidden);
    }
    w.write(dir + "/model.safetensors");
}

double measure_mm_gflops(std::int64_t m, std::int64_t k, std::int64_t n)
{
    auto a = torch::randn({m, k}), b = torch::randn({k, n});
    torch::mm(a, b);  // warm-up
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        auto c = torch::mm(a, b);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, 2.0 * m * k * n / s / 1e9);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string dir = (std::filesystem::temp_directory_path() / "qs-bench-llama7b-shape").string();
    Shape shape;
    std::int64_t seqlen = 2048, windows = 1;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() { return std::string(i + 1 < argc ? argv[++i] : ""); };
        if (a == "--dir")
            dir = next();
        else if (a == "--layers")
            shape.layers = std::stoll(next());
        else if (a == "--seqlen")
            seqlen = std::stoll(next());
        else if (a == "--windows")
            windows = std::stoll(next());
        else if (a == "--keep")
            keep = true;
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    const int threads = qs::configure_threads();
    std::printf("runtime: %s\n", qs::runtime_summary().c_str());

    if (!std::filesystem::exists(dir + "/model.safetensors")) {
        std::printf("writing random model (Llama-2-7B layer shapes, %lld layers, F16) to %s\n",
                    static_cast<long long>(shape.layers), dir.c_str());
        pid_t child = fork();
        if (child == 0) {
            write_model(dir, shape);
            _exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "writing failed\n");
            return 1;
        }
    }
    const double file_mb = std::filesystem::file_size(dir + "/model.safetensors") / 1048576.0;

    torch::NoGradGuard no_grad;
    // Matmul rate of this machine: the shape of the MLP projections at this seqlen.
    const double mm_gflops = measure_mm_gflops(seqlen, shape.hidden, shape.intermediate);

    const double rss_before = rss_mb("VmRSS:");
    auto model = qs::CausalLM::open(dir, torch::kCPU, /*with_tokenizer=*/false);
    const double rss_after_open = rss_mb("VmRSS:");

    torch::manual_seed(1);
    auto ids = torch::randint(3, shape.vocab, {windows * seqlen}, torch::kInt32);
    std::vector<std::int32_t> tokens(ids.data_ptr<std::int32_t>(),
                                     ids.data_ptr<std::int32_t>() + ids.numel());
    qs::PerplexityOptions options;
    options.seqlen = seqlen;
    auto result = qs::evaluate_perplexity(*model, tokens, options);
    const double peak = rss_mb("VmHWM:");

    const auto& c = model->config();
    const double layer_linear =
        4.0 * c.hidden_size * c.hidden_size + 3.0 * c.hidden_size * c.intermediate_size;
    const double linear_params = c.num_layers * layer_linear + double(c.vocab_size) * c.hidden_size;
    const double tokens_run = double(windows * seqlen);
    // q k^T and probs v over the full T x T matrix (what the code computes), per layer.
    const double attention = c.num_layers * 4.0 * windows * double(seqlen) * seqlen * c.hidden_size;
    const double flops = 2.0 * linear_params * tokens_run + attention;
    const double gflops = flops / result.seconds / 1e9;

    std::printf("model: %lld layers, %.0f MB on disk (F16), threads %d\n",
                static_cast<long long>(c.num_layers), file_mb, threads);
    std::printf("torch::mm %lldx%lldx%lld: %.1f GFLOP/s\n", static_cast<long long>(seqlen),
                static_cast<long long>(shape.hidden), static_cast<long long>(shape.intermediate),
                mm_gflops);
    std::printf("eval: %lld window(s) x %lld tokens in %.2f s -> %.1f tokens/s\n",
                static_cast<long long>(windows), static_cast<long long>(seqlen), result.seconds,
                tokens_run / result.seconds);
    std::printf("achieved: %.1f GFLOP/s = %.1f %% of torch::mm (goal >= 60 %%)\n", gflops,
                100.0 * gflops / mm_gflops);
    std::printf(
        "RSS before open %.1f MB, after open %.1f MB (+%.1f MB, goal < 100 MB), peak during eval "
        "%.1f MB\n",
        rss_before, rss_after_open, rss_after_open - rss_before, peak);
    std::printf("ppl of random tokens (sanity): %.1f\n", result.ppl);
    model.reset();
    if (!keep) std::filesystem::remove_all(dir);
    return 0;
}
