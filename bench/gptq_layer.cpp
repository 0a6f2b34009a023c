// bench/gptq_layer: GPTQ W4 g128 asym on one linear layer of Llama-2-7B shapes with random
// weights and a Hessian from 128 x 512 random tokens (N(0, 1) with a few outlier channels).
// Prints the seconds of the Hessian accumulation and of the solve, and their GFLOP/s against the
// torch::mm rate of a comparable shape measured in the same run (best of 3).
// FLOP model:
//   Hessian: 2 * tokens * cols^2 (X^T X; the rescaling is O(cols^2) per batch and ignored).
//   Solve:   lazy updates: sum over blocks of 2 * rows * B * (cols - i2)   (about rows * cols^2)
//            + in-block updates: sum over blocks of rows * count * (count - 1)
//              (a multiply and a subtract per weight and later column of the block, about
//              rows * cols * B)
//            + inverse factor: cols^3 ("model"), the figure the rate is quoted against; the
//              reference's chain cholesky -> cholesky_inverse -> cholesky(upper) does 4/3 cols^3,
//              gptq_quantize's blocked factor 2/3 cols^3 (Cholesky of the reversed H and one
//              triangular inverse), and "executed" counts those 2/3 cols^3.
//   The rates compared: Hessian vs mm [cols, 4096] x [4096, cols]; solve vs mm
//   [rows, cols] x [cols, 2048] (the lazy update's operands, with a wider inner block).
//   usage: gptq_layer [--shapes full|square|small] [--sequences 128] [--seqlen 512]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bench/bench_common.h"
#include "core/quant/gptq.h"
#include "core/quant/gptq_internal.h"
#include "core/util/threading.h"

namespace {

using qs_bench::Clock;
using qs_bench::seconds_since;

constexpr int kGroupSize = 128;
constexpr int kBlockSize = 128;
constexpr int kSequencesPerBatch = 8;
constexpr double kOutlierScale = 10.0;
constexpr std::int64_t kOutlierStride = 997;  // one outlier channel per ~1000
constexpr std::int64_t kMmInner = 2048;

double measure_mm_gflops(std::int64_t m, std::int64_t k, std::int64_t n)
{
    auto a = torch::randn({m, k});
    auto b = torch::randn({k, n});
    const double best = qs_bench::best_seconds([&] { return torch::mm(a, b); }, 3);
    return 2.0 * double(m) * double(k) * double(n) / best / 1e9;
}

double cube(std::int64_t n)
{
    return double(n) * double(n) * double(n);
}

// Lazy and in-block updates of the solve (see the FLOP model above).
double update_flops(std::int64_t rows, std::int64_t cols, std::int64_t block)
{
    double flops = 0;
    for (std::int64_t i1 = 0; i1 < cols; i1 += block) {
        const auto i2 = std::min(cols, i1 + block);
        const auto count = i2 - i1;
        flops += 2.0 * double(rows) * double(count) * double(cols - i2);
        flops += double(rows) * double(count) * double(count - 1);
    }
    return flops;
}

struct Shape {
    std::int64_t rows, cols;
    const char* name;
};

void run_shape(const Shape& shape, std::int64_t sequences, std::int64_t seqlen)
{
    const auto rows = shape.rows, cols = shape.cols;
    std::printf("\n== %s: W %lld x %lld, Hessian from %lld x %lld tokens ==\n", shape.name,
                static_cast<long long>(rows), static_cast<long long>(cols),
                static_cast<long long>(sequences), static_cast<long long>(seqlen));
    torch::manual_seed(0);
    // A few outlier input channels, as LLM activations have.
    auto channel_scale = torch::ones({cols});
    for (std::int64_t c = 7; c < cols; c += kOutlierStride)
        channel_scale[c] = kOutlierScale;

    qs::HessianAccumulator acc(cols);
    double hessian_s = 0;
    for (std::int64_t s = 0; s < sequences; s += kSequencesPerBatch) {
        const auto n = std::min<std::int64_t>(kSequencesPerBatch, sequences - s);
        auto x = torch::randn({n, seqlen, cols}) * channel_scale;  // not timed
        auto t0 = Clock::now();
        acc.add_batch(x);
        hessian_s += seconds_since(t0);
    }
    const double hessian_flops = 2.0 * double(sequences * seqlen) * double(cols) * double(cols);
    const double hessian_mm = measure_mm_gflops(cols, kSequencesPerBatch * seqlen, cols);

    auto w = torch::randn({rows, cols}) * 0.02;
    qs::GptqOptions options;
    options.format.kind = qs::FormatKind::Int;
    options.format.bits = 4;
    options.format.symmetric = false;
    options.format.granularity = qs::Granularity::Group;
    options.format.group_size = kGroupSize;
    options.blocksize = kBlockSize;
    auto t0 = Clock::now();
    auto result = qs::gptq_quantize(w, acc.hessian(), options);
    const double solve_s = seconds_since(t0);
    const double solve_mm = measure_mm_gflops(rows, cols, std::min(cols, kMmInner));
    const double updates = update_flops(rows, cols, kBlockSize);
    const double model_flops = updates + cube(cols);
    const double executed_flops = updates + 2.0 / 3.0 * cube(cols);

    // The inverse factor alone (part of the solve above), and the reference chain for scale.
    auto h = acc.hessian().clone();
    h.diagonal().add_(0.01 * h.diagonal().mean());
    t0 = Clock::now();
    auto hinv = qs::gptq_detail::upper_cholesky_of_inverse_blocked(h);
    const double factor_s = seconds_since(t0);
    t0 = Clock::now();
    auto hinv_ref = qs::gptq_detail::upper_cholesky_of_inverse_reference(h);
    const double factor_ref_s = seconds_since(t0);

    const double hessian_gflops = hessian_flops / hessian_s / 1e9;
    const double model_gflops = model_flops / solve_s / 1e9;
    const double executed_gflops = executed_flops / solve_s / 1e9;
    std::printf("Hessian: %.3f s, %.1f GFLOP -> %.1f GFLOP/s; torch::mm %.1f GFLOP/s (%.0f %%)\n",
                hessian_s, hessian_flops / 1e9, hessian_gflops, hessian_mm,
                100.0 * hessian_gflops / hessian_mm);
    std::printf(
        "solve:   %.3f s, model %.1f GFLOP -> %.1f GFLOP/s; torch::mm %.1f GFLOP/s (%.0f %%)\n",
        solve_s, model_flops / 1e9, model_gflops, solve_mm, 100.0 * model_gflops / solve_mm);
    std::printf(
        "         executed %.1f GFLOP -> %.1f GFLOP/s (%.0f %% of torch::mm); total loss %.6g\n",
        executed_flops / 1e9, executed_gflops, 100.0 * executed_gflops / solve_mm,
        result.total_error);
    std::printf(
        "factor alone: blocked %.3f s, reference chain (LAPACK) %.3f s, "
        "|U - U_ref| / |U_ref| = %.2g\n",
        factor_s, factor_ref_s, ((hinv - hinv_ref).norm() / hinv_ref.norm()).item<double>());
}

}  // namespace

int main(int argc, char** argv)
{
    std::string shapes = "full";
    std::int64_t sequences = 128, seqlen = 512;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() { return std::string(i + 1 < argc ? argv[++i] : ""); };
        if (a == "--shapes") {
            shapes = next();
        } else if (a == "--sequences") {
            sequences = std::stoll(next());
        } else if (a == "--seqlen") {
            seqlen = std::stoll(next());
        } else {
            std::fprintf(stderr,
                         "usage: gptq_layer [--shapes full|square|small] [--sequences N] "
                         "[--seqlen T]\n");
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    if (shapes != "full" && shapes != "small" && shapes != "square") {
        std::fprintf(stderr, "gptq_layer: --shapes must be full, square or small, got %s\n",
                     shapes.c_str());
        return 2;
    }
    qs::configure_threads();
    std::printf("runtime: %s\n", qs::runtime_summary().c_str());
    std::vector<Shape> list = {
        {4096, 4096, "q/k/v/o_proj"}, {11008, 4096, "gate/up_proj"}, {4096, 11008, "down_proj"}};
    if (shapes == "small") {
        list = {{1024, 1024, "small square"}, {2752, 1024, "small up"}, {1024, 2752, "small down"}};
        sequences = std::min<std::int64_t>(sequences, 16);
    } else if (shapes == "square") {
        list.resize(1);
    }
    for (const auto& s : list)
        run_shape(s, sequences, seqlen);
    return 0;
}
