// bench/pipeline_7b: the issue-8 pipeline benchmark, in one process, on a model folder (meant for
// a random-initialised Llama-2-7B-shaped checkpoint: `quantscope-cli synth --preset llama-2-7b`;
// bench/llama7b_bench.sh writes it and runs this). Phases (--phases, in this order):
//   matmul  square matmuls on the device (bf16 and fp32; 8192^3 on CUDA, 4096^3 fp32 / 1024^3
//           bf16 on the CPU), 2 warm-ups then 3 timed synchronised runs, best = the machine's
//           own limit the later phases are compared with;
//   eval    WikiText-2 test perplexity (wiki.test.raw, tokenized as `eval` does) at --seqlen:
//           wall, tokens/s, FLOP count (below) and achieved TFLOP/s vs the matmul rates;
//   gptq    quantize_model with the bundled recipe gptq-w4g128 (int4-g128-asym, act_order off,
//           true-sequential, blocksize 128, percdamp 0.01) but calibration {samples:
//           --calib-samples, seqlen: --seqlen, seed 0} from WikiText-2 valid (what
//           bench/ppl_table.sh and the tests calibrate on: shared/ has no train split);
//   awq     quantize_model with awq-w4g128 (grid 20, clip on) on the same calibration windows
//           (the bundled recipe's own calibration is 128 x 512, seed 42).
// Every quantize phase writes its (float32, dequantized) checkpoint under --out and removes it
// after (--keep keeps it); the write is inside the wall time, as in `quantscope-cli quantize`.
// Per-layer times come from quantize_model's progress reports ("layer i/L").
// Memory per phase: on CUDA the caching allocator's peak allocated bytes (reset between phases);
// on the host the peak RSS (VmHWM, reset through /proc/self/clear_refs when the kernel allows)
// and the peak anonymous RSS (RssAnon sampled every 10 ms: excludes the memory-mapped
// checkpoint's page cache). The budget the issue names is printed beside them:
//   2 x one decoder layer's bytes in the compute dtype + samples x seqlen x hidden x dtype bytes.
// Eval FLOP count, per window of T tokens: 2 x T x (every linear weight incl. lm_head)
//   + per layer 2 x 2 x T x T x hidden (q k^T and p v over the FULL T x T matrix, as the code
//   computes it and as most MFU formulas count; causal-only work would be half of this term).
//   usage: pipeline_7b --model DIR [--device cpu|cuda:N] [--dtype fp32|bf16|fp16]
//          [--eval-windows N]
//          [--calib-samples N] [--seqlen N] [--phases matmul,eval,gptq,awq] [--json FILE]
//          [--out DIR] [--keep] [--shared DIR]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#ifdef QS_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/cuda.h>
#endif

#include "bench/bench_common.h"
#include "core/eval/dataset_text.h"
#include "core/eval/perplexity.h"
#include "core/model/causal_lm.h"
#include "core/model/compute_dtype.h"
#include "core/quant/quantize_model.h"
#include "core/util/device.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/threading.h"

namespace fs = std::filesystem;
using qs_bench::Clock;
using qs_bench::seconds_since;

namespace {

double gib(double bytes)
{
    return bytes / double(1ull << 30);
}

struct Options {
    std::string model, device = "cpu", dtype = "fp32", json, out, shared;
    std::int64_t eval_windows = 0, calib_samples = 128, seqlen = 2048;
    std::vector<std::string> phases = {"matmul", "eval", "gptq", "awq"};
    bool keep = false;
};

[[noreturn]] void usage_error(const std::string& message)
{
    std::fprintf(stderr,
                 "pipeline_7b: %s\nusage: pipeline_7b --model DIR [--device cpu|cuda:N] "
                 "[--dtype fp32|bf16|fp16] [--eval-windows N] [--calib-samples N] [--seqlen N] "
                 "[--phases matmul,eval,gptq,awq] [--json FILE] [--out DIR] [--keep] "
                 "[--shared DIR]\n",
                 message.c_str());
    std::exit(2);
}

Options parse_options(int argc, char** argv)
{
    Options o;
    const char* shared = std::getenv("QS_SHARED");
    o.shared = shared ? shared : "../shared";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        auto number = [&]() -> std::int64_t {
            const std::string v = value();
            try {
                return std::stoll(v);
            } catch (const std::exception&) {
                usage_error(a + " takes a number, not '" + v + "'");
            }
        };
        if (a == "--model")
            o.model = value();
        else if (a == "--device")
            o.device = value();
        else if (a == "--dtype")
            o.dtype = value();
        else if (a == "--eval-windows")
            o.eval_windows = number();
        else if (a == "--calib-samples")
            o.calib_samples = number();
        else if (a == "--seqlen")
            o.seqlen = number();
        else if (a == "--json")
            o.json = value();
        else if (a == "--out")
            o.out = value();
        else if (a == "--shared")
            o.shared = value();
        else if (a == "--keep")
            o.keep = true;
        else if (a == "--phases") {
            o.phases.clear();
            std::stringstream list(value());
            for (std::string p; std::getline(list, p, ',');) {
                if (p != "matmul" && p != "eval" && p != "gptq" && p != "awq")
                    usage_error("unknown phase '" + p + "' (matmul, eval, gptq, awq)");
                o.phases.push_back(p);
            }
        } else
            usage_error("unknown option " + a);
    }
    if (o.model.empty()) usage_error("--model DIR is required");
    if (o.calib_samples < 1 || o.seqlen < 2 || o.eval_windows < 0)
        usage_error("--calib-samples >= 1, --seqlen >= 2, --eval-windows >= 0");
    if (o.out.empty()) o.out = (fs::temp_directory_path() / "qs-pipeline-7b-out").string();
    return o;
}

bool has_phase(const Options& o, const std::string& p)
{
    return std::find(o.phases.begin(), o.phases.end(), p) != o.phases.end();
}

void synchronize(const torch::Device& device)
{
#ifdef QS_CUDA
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
#else
    (void)device;
#endif
}

// ---- memory -------------------------------------------------------------------------------

std::int64_t status_kb(const char* key)  // "VmHWM:", "VmRSS:", "RssAnon:" of /proc/self/status
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(key);
    while (std::getline(in, line))
        if (line.compare(0, n, key) == 0) return std::stoll(line.substr(n));
    return 0;
}

// Peak host and device memory of one phase. The host peak RSS is reset with clear_refs "5"
// (Linux >= 4.0); where that fails the process-wide ru_maxrss is all there is, said so.
class MemoryProbe {
public:
    explicit MemoryProbe(const torch::Device& device) : m_device(device)
    {
        std::ofstream clear("/proc/self/clear_refs");
        clear << "5" << std::flush;
        m_hwm_reset = static_cast<bool>(clear);
        m_rss_start = status_kb("VmRSS:");
        m_anon_start = status_kb("RssAnon:");
        m_anon_peak = m_anon_start;
#ifdef QS_CUDA
        if (device.is_cuda()) {
            synchronize(device);
            c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
            m_device_start = current_device_bytes();
        }
#endif
        m_sampler = std::thread([this] {
            while (!m_stop.load()) {
                m_anon_peak = std::max(m_anon_peak.load(), status_kb("RssAnon:"));
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
    }
    ~MemoryProbe()
    {
        stop();
    }

    nlohmann::json finish()
    {
        synchronize(m_device);
        stop();
        nlohmann::json j;
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        const std::int64_t hwm = m_hwm_reset ? status_kb("VmHWM:") : usage.ru_maxrss;
        j["host_peak_rss_bytes"] = hwm * 1024;
        j["host_peak_rss_is_phase_peak"] = m_hwm_reset;
        j["host_rss_start_bytes"] = m_rss_start * 1024;
        j["host_rss_end_bytes"] = status_kb("VmRSS:") * 1024;
        j["host_peak_anon_bytes"] = m_anon_peak.load() * 1024;
        j["host_anon_start_bytes"] = m_anon_start * 1024;
        j["host_anon_end_bytes"] = status_kb("RssAnon:") * 1024;
#ifdef QS_CUDA
        if (m_device.is_cuda()) {
            const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(m_device.index());
            j["device_peak_allocated_bytes"] = stats.allocated_bytes[0].peak;  // 0: AGGREGATE
            j["device_peak_reserved_bytes"] = stats.reserved_bytes[0].peak;
            j["device_allocated_start_bytes"] = m_device_start;
            j["device_allocated_end_bytes"] = current_device_bytes();
        }
#endif
        return j;
    }

private:
    void stop()
    {
        m_stop = true;
        if (m_sampler.joinable()) m_sampler.join();
    }
#ifdef QS_CUDA
    std::int64_t current_device_bytes() const
    {
        return c10::cuda::CUDACachingAllocator::getDeviceStats(m_device.index())
            .allocated_bytes[0]
            .current;
    }
    std::int64_t m_device_start = 0;
#endif
    torch::Device m_device;
    bool m_hwm_reset = false;
    std::int64_t m_rss_start = 0, m_anon_start = 0;
    std::atomic<std::int64_t> m_anon_peak{0};
    std::atomic<bool> m_stop{false};
    std::thread m_sampler;
};

// The memory goal: two decoder layers in the compute dtype plus the calibration
// activations (one [samples, seqlen, hidden] tensor in the compute dtype).
struct Budget {
    double layer_bytes = 0, activation_bytes = 0;
    const char* activations = "calibration activations";
    double total() const { return 2 * layer_bytes + activation_bytes; }
};

Budget memory_budget(const qs::ModelConfig& c, std::int64_t samples, std::int64_t seqlen,
                     int dtype_bytes)
{
    const double kv = double(c.num_kv_heads) * c.head_dim;
    const double params = 2.0 * c.hidden_size * c.hidden_size + 2.0 * c.hidden_size * kv +
                          3.0 * c.hidden_size * c.intermediate_size + 2.0 * c.hidden_size;
    return {params * dtype_bytes, double(samples) * seqlen * c.hidden_size * dtype_bytes};
}

void print_memory(const char* phase, const nlohmann::json& m, const Budget& budget, bool cuda)
{
    const double peak = m["host_peak_rss_bytes"].get<double>();
    const double anon = m["host_peak_anon_bytes"].get<double>();
    std::printf(
        "  memory[%s]: host peak RSS %.2f GiB%s (start %.2f, end %.2f), peak anon RSS %.2f GiB "
        "(start %.2f, growth %.2f)\n",
        phase, gib(peak), m["host_peak_rss_is_phase_peak"].get<bool>() ? "" : " (process-wide)",
        gib(m["host_rss_start_bytes"].get<double>()), gib(m["host_rss_end_bytes"].get<double>()),
        gib(anon), gib(m["host_anon_start_bytes"].get<double>()),
        gib(anon - m["host_anon_start_bytes"].get<double>()));
    const double measured = cuda ? m["device_peak_allocated_bytes"].get<double>()
                                 : anon - m["host_anon_start_bytes"].get<double>();
    if (cuda)
        std::printf("  memory[%s]: device peak allocated %.2f GiB, peak reserved %.2f GiB\n", phase,
                    gib(measured), gib(m["device_peak_reserved_bytes"].get<double>()));
    std::printf(
        "  budget[%s]: 2 layers %.2f GiB + %s %.2f GiB = %.2f GiB; %s %.2f GiB = %.2fx the "
        "budget\n",
        phase, gib(2 * budget.layer_bytes), budget.activations, gib(budget.activation_bytes),
        gib(budget.total()), cuda ? "device peak" : "peak anon growth", gib(measured),
        measured / budget.total());
}

// ---- matmul rate --------------------------------------------------------------------------

double matmul_tflops(const torch::Device& device, torch::ScalarType type, std::int64_t n)
{
    auto options = torch::TensorOptions().device(device).dtype(type);
    auto a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
    const double best = qs_bench::best_seconds(
        [&] {
            auto c = torch::mm(a, b);
            synchronize(device);
            return c;
        },
        /*reps=*/3, /*warmups=*/2);
    return 2.0 * double(n) * double(n) * double(n) / best / 1e12;
}

// ---- eval ---------------------------------------------------------------------------------

double eval_flops(const qs::ModelConfig& c, std::int64_t windows, std::int64_t t)
{
    const double kv = double(c.num_kv_heads) * c.head_dim;
    const double layer_linear = 2.0 * c.hidden_size * c.hidden_size + 2.0 * c.hidden_size * kv +
                                3.0 * c.hidden_size * c.intermediate_size;
    const double linear = c.num_layers * layer_linear + double(c.vocab_size) * c.hidden_size;
    const double per_window =
        2.0 * t * linear + c.num_layers * 4.0 * double(t) * double(t) * c.hidden_size;
    return windows * per_window;
}

// ---- quantize -----------------------------------------------------------------------------

// Timestamps of quantize_model's top-level progress: "calibration data", "layer i/L", "done".
struct LayerClock {
    Clock::time_point start = Clock::now();
    std::vector<double> layer_start;  // seconds since start at "layer i/L"
    double calibration_end = -1, done = -1;

    void attach(qs::Feedback& feedback)
    {
        feedback.set_listener([this](double, const std::string& stage) {
            const double now = seconds_since(start);
            if (stage == "done") done = now;
            if (stage.rfind("layer ", 0) != 0) return;
            const int index = std::atoi(stage.c_str() + 6);
            if (index == int(layer_start.size())) {
                if (index == 0) calibration_end = now;
                layer_start.push_back(now);
                std::fprintf(stderr, "  [%.1f s] %s\n", now, stage.c_str());
            }
        });
    }
    std::vector<double> layer_seconds(double total) const
    {
        std::vector<double> out;
        for (std::size_t i = 0; i < layer_start.size(); ++i)
            out.push_back(
                (i + 1 < layer_start.size() ? layer_start[i + 1] : (done > 0 ? done : total)) -
                layer_start[i]);
        return out;
    }
};

nlohmann::json run_quantize(const qs::CausalLM& model, const Options& o, const std::string& method,
                            const std::string& calib_file, const Budget& budget, bool cuda)
{
    const fs::path recipe_file =
        fs::path(QS_SOURCE_DIR) / "resources/recipes" / (method + "-w4g128.yaml");
    qs::Recipe recipe = qs::Recipe::load(recipe_file.string());
    recipe.calibration.dataset = calib_file;
    recipe.calibration.samples = o.calib_samples;
    recipe.calibration.seqlen = o.seqlen;
    recipe.calibration.seed = 0;
    const std::string out = o.out + "/" + method;
    std::printf("%s: recipe %s (%s) with calibration %lld x %lld tokens of %s\n", method.c_str(),
                recipe.name.c_str(), recipe_file.string().c_str(),
                static_cast<long long>(o.calib_samples), static_cast<long long>(o.seqlen),
                calib_file.c_str());
    std::fflush(stdout);

    MemoryProbe memory(model.device());
    qs::Feedback feedback;
    LayerClock clock;
    clock.attach(feedback);
    const auto t0 = Clock::now();
    qs::QuantizeResult result = qs::quantize_model(model, recipe, out, /*force=*/true, &feedback);
    synchronize(model.device());
    const double wall = seconds_since(t0);
    nlohmann::json j{{"recipe", recipe.name},
                     {"recipe_yaml", recipe.to_yaml()},
                     {"wall_seconds", wall},
                     {"calibration_seconds", clock.calibration_end},
                     {"layer_seconds", clock.layer_seconds(wall)},
                     {"calibration_tokens", o.calib_samples * o.seqlen},
                     {"warnings", result.warnings}};
    j["memory"] = memory.finish();
    double disk = 0;
    for (const auto& entry : fs::directory_iterator(out))
        if (entry.is_regular_file()) disk += double(entry.file_size());
    j["checkpoint_bytes"] = disk;
    if (!o.keep) fs::remove_all(out);

    const auto layers = clock.layer_seconds(wall);
    double sum = 0, worst = 0;
    for (double s : layers)
        sum += s, worst = std::max(worst, s);
    std::printf(
        "  %s: wall %.2f s (calibration windows + embeddings %.2f s, %zu layers: mean %.2f "
        "s, max %.2f s per layer; checkpoint %.2f GiB written%s)\n",
        method.c_str(), wall, clock.calibration_end, layers.size(),
        layers.empty() ? 0.0 : sum / double(layers.size()), worst, gib(disk),
        o.keep ? "" : " and removed");
    std::printf("  %s: per layer [s]:", method.c_str());
    for (double s : layers)
        std::printf(" %.2f", s);
    std::printf("\n  %s: %.0f calibration tokens/s through the pipeline\n", method.c_str(),
                double(o.calib_samples * o.seqlen) / wall);
    for (const auto& w : result.warnings)
        std::printf("  %s: warning: %s\n", method.c_str(), w.c_str());
    print_memory(method.c_str(), j["memory"], budget, cuda);
    std::fflush(stdout);
    return j;
}

}  // namespace

int main(int argc, char** argv)
{
    qs::reexec_with_passive_openmp_wait(argv);
    const Options o = parse_options(argc, argv);
    const int threads = qs::configure_threads();
    torch::NoGradGuard no_grad;
    nlohmann::json out;
    try {
        const torch::Device device = qs::parse_device(o.device);
        const torch::ScalarType dtype = qs::parse_compute_dtype(o.dtype);
        const std::string dtype_name = qs::compute_dtype_name(dtype);
        const bool cuda = device.is_cuda();
        std::printf("runtime: %s; device %s; compute dtype %s; %d threads\n",
                    qs::runtime_summary().c_str(), o.device.c_str(), dtype_name.c_str(), threads);
        out["runtime"] = qs::runtime_summary();
        out["device"] = o.device;
        out["dtype"] = dtype_name;
        out["threads"] = threads;

        auto model = qs::CausalLM::open(o.model, device, /*with_tokenizer=*/true, dtype);
        const auto& c = model->config();
        const std::int64_t context = c.max_position_embeddings;
        const std::int64_t seqlen = context > 0 ? std::min(o.seqlen, context) : o.seqlen;
        std::printf(
            "model %s: %lld layers, hidden %lld, intermediate %lld, heads %lld/%lld, vocab "
            "%lld, stored %s; seqlen %lld\n",
            o.model.c_str(), (long long)c.num_layers, (long long)c.hidden_size,
            (long long)c.intermediate_size, (long long)c.num_heads, (long long)c.num_kv_heads,
            (long long)c.vocab_size, c.torch_dtype.c_str(), (long long)seqlen);
        out["model"] = {{"dir", o.model},          {"layers", c.num_layers},
                        {"hidden", c.hidden_size}, {"intermediate", c.intermediate_size},
                        {"vocab", c.vocab_size},   {"stored_dtype", c.torch_dtype}};
        const int dtype_bytes = int(c10::elementSize(dtype));
        const Budget budget = memory_budget(c, o.calib_samples, seqlen, dtype_bytes);
        out["budget"] = {{"layer_bytes", budget.layer_bytes},
                         {"calibration_activation_bytes", budget.activation_bytes},
                         {"total_bytes", budget.total()}};
        std::printf(
            "budget: one layer %.3f GiB (%d-byte %s), calibration activations %lld x %lld "
            "x %lld = %.3f GiB; 2 layers + activations = %.3f GiB\n",
            gib(budget.layer_bytes), dtype_bytes, dtype_name.c_str(), (long long)o.calib_samples,
            (long long)seqlen, (long long)c.hidden_size, gib(budget.activation_bytes),
            gib(budget.total()));
        std::printf(
            "  (quantize_model streams the layers as stored, %s here, and quantizes each linear "
            "in float32; on a GPU with a half-precision dtype the finished float32 linears go to "
            "the host)\n",
            c.torch_dtype.c_str());

        // The rate of each dtype (TFLOP/s, 0 where not measured): bf16 is the issue's
        // reference ("the GPU's bf16 matmul rate"), the compute dtype's is the fair one.
        std::map<torch::ScalarType, double> rate;
        if (has_phase(o, "matmul")) {
            // CPU: fp32 4096^3 takes about a second on 2 cores; bf16 (AMX where the CPU has it)
            // is probed smaller; libtorch 1.13 has no CPU fp16 matmul.
            const std::vector<std::pair<torch::ScalarType, std::int64_t>> probes =
                cuda ? std::vector<std::pair<torch::ScalarType, std::int64_t>>{{torch::kBFloat16,
                                                                                8192},
                                                                               {torch::kHalf, 8192},
                                                                               {torch::kFloat32,
                                                                                8192}}
                     : std::vector<std::pair<torch::ScalarType, std::int64_t>>{
                           {torch::kBFloat16, 1024}, {torch::kFloat32, 4096}};
            std::printf("matmul (best of 3 after 2 warm-ups):");
            for (const auto& [type, n] : probes) {
                rate[type] = matmul_tflops(device, type, n);
                const std::string name = qs::compute_dtype_name(type);
                std::printf(" %s %lld^3 %.2f TFLOP/s;", name.c_str(), (long long)n, rate[type]);
                out["matmul"][name + "_tflops"] = rate[type];
                out["matmul"][name + "_n"] = n;
            }
            // fp32 on CUDA runs true fp32 unless TF32 is allowed (libtorch's default: not).
            std::printf(" (TF32 for fp32 matmuls: %s)\n",
                        at::globalContext().allowTF32CuBLAS() ? "on" : "off");
            out["matmul"]["tf32"] = at::globalContext().allowTF32CuBLAS();
            std::fflush(stdout);
        }

        if (has_phase(o, "eval")) {
            const std::string file = o.shared + "/data/wikitext-2-raw/wiki.test.raw";
            auto t0 = Clock::now();
            const auto tokens =
                model->tokenizer().encode(qs::load_eval_text(file, qs::TextProtocol::Wikitext));
            const double tokenize_s = seconds_since(t0);
            qs::PerplexityOptions options;
            options.seqlen = seqlen;
            options.limit_windows = o.eval_windows;
            MemoryProbe memory(device);
            t0 = Clock::now();
            const auto r = qs::evaluate_perplexity(*model, tokens, options);
            synchronize(device);
            const double wall = seconds_since(t0);
            const double flops = eval_flops(c, r.windows, r.window_length);
            const double tflops = flops / wall / 1e12;
            const double tokens_run = double(r.windows * r.window_length);
            nlohmann::json j{{"file", file},
                             {"tokenize_seconds", tokenize_s},
                             {"dataset_tokens", r.tokens},
                             {"windows", r.windows},
                             {"seqlen", r.window_length},
                             {"wall_seconds", wall},
                             {"tokens_per_second", tokens_run / wall},
                             {"flops", flops},
                             {"flop_count",
                              "2*T*linear weights incl. lm_head + per layer 4*T^2*"
                              "hidden (attention at full T)"},
                             {"tflops", tflops},
                             {"ppl", r.ppl}};
            std::printf(
                "eval: %s, %lld tokens (tokenized in %.1f s); %lld windows x %lld: wall "
                "%.2f s, %.1f tokens/s, ppl %.2f\n",
                file.c_str(), (long long)r.tokens, tokenize_s, (long long)r.windows,
                (long long)r.window_length, wall, tokens_run / wall, r.ppl);
            std::printf(
                "  eval: %.3e FLOP (2 x T x linear weights incl. lm_head + 4 x T^2 x hidden "
                "per layer, attention at full T) -> %.3f TFLOP/s",
                flops, tflops);
            if (rate[dtype] > 0) {
                j["fraction_of_dtype_matmul"] = tflops / rate[dtype];
                std::printf(" = %.1f %% of the %s matmul rate (goal > 50 %%)",
                            100 * tflops / rate[dtype], dtype_name.c_str());
            }
            if (rate[torch::kBFloat16] > 0 && dtype != torch::kBFloat16) {
                j["fraction_of_bf16_matmul"] = tflops / rate[torch::kBFloat16];
                std::printf(", %.1f %% of the bf16 rate", 100 * tflops / rate[torch::kBFloat16]);
            }
            std::printf("\n");
            j["memory"] = memory.finish();
            // Eval's analogue of the calibration activations: the hidden states of one group of
            // windows kept between layers (PerplexityOptions::memory_budget_mb).
            Budget eval_budget = budget;
            const double window_bytes = double(r.window_length) * c.hidden_size * dtype_bytes;
            const double group =
                std::clamp(std::floor(double(options.memory_budget_mb) * (1 << 20) / window_bytes),
                           1.0, double(r.windows));
            eval_budget.activation_bytes = group * window_bytes;
            eval_budget.activations = "eval hidden states";
            j["budget_bytes"] = eval_budget.total();
            print_memory("eval", j["memory"], eval_budget, cuda);
            out["eval"] = j;
            std::fflush(stdout);
        }

        const std::string calib_file = o.shared + "/data/wikitext-2/valid.txt";
        for (const char* method : {"gptq", "awq"})
            if (has_phase(o, method))
                out[method] = run_quantize(*model, o, method, calib_file, budget, cuda);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipeline_7b: %s\n", e.what());
        return 1;
    }
    if (!o.json.empty()) std::ofstream(o.json) << out.dump(2) << "\n";
    return 0;
}
