// bench/channel_stats: ActivationStatsAccumulator::add on one float32 activation batch of
// [8192, 11008] and [8192, 4096] (N(0, 1) with two outlier channels, Llama-2-7B MLP and
// attention widths), and the reduction inside it: the all-torch one (summarize_matrix_tensor_ops,
// the former add()) against the one with the channel_stats kernel (summarize_matrix), plus the
// kernel alone. Best of --reps after a warm-up; each add() gets a fresh accumulator (the sample
// copy of the batch is part of its cost). Before timing, the two reductions are checked equal:
// every scalar and the channel absmax bit for bit, the channel sums within the float32 rounding
// of the tensor-op sums (the largest relative difference is printed).
//   usage: channel_stats [--threads 2] [--reps 3]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <torch/types.h>

#include "bench/bench_common.h"
#include "core/analysis/tensor_stats.h"
#include "core/analysis/tensor_stats_reduce.h"
#include "core/kernels/channel_stats.h"

namespace {

template <typename F>
double best_ms(F&& f, int reps)
{
    return 1e3 * qs_bench::best_seconds(f, reps);
}

// Whether the kernel reduction equals the tensor-op one; prints the largest relative difference
// of the channel sums.
bool same_summary(const qs::stats_detail::MatrixSummary& a,
                  const qs::stats_detail::MatrixSummary& b, std::int64_t tokens)
{
    const auto& ma = a.moments;
    const auto& mb = b.moments;
    bool same = ma.n == mb.n && ma.mean == mb.mean && ma.m2 == mb.m2 && ma.m3 == mb.m3 &&
                ma.m4 == mb.m4 && a.min == b.min && a.max == b.max &&
                a.count_above == b.count_above && a.zeros == b.zeros &&
                a.channel_absmax == b.channel_absmax &&
                a.channel_sum_abs.size() == b.channel_sum_abs.size();
    double worst = 0;
    std::size_t changed = 0;  // channels whose stored float32 mean |x| differs
    for (std::size_t c = 0; same && c < a.channel_sum_abs.size(); ++c) {
        worst = std::max(
            worst, std::abs(a.channel_sum_abs[c] - b.channel_sum_abs[c]) / b.channel_sum_abs[c]);
        changed += float(a.channel_sum_abs[c] / double(tokens)) !=
                   float(b.channel_sum_abs[c] / double(tokens));
    }
    // float32 sums of `tokens` terms in tiles: a few ulp per term at most.
    const double bound = 4.0 * double(tokens) * std::ldexp(1.0, -24);
    std::printf(
        "  channel sum |x|: largest relative difference %.3g (bound %.3g); float32 mean "
        "|x| differs in %zu of %zu channels\n",
        worst, bound, changed, a.channel_sum_abs.size());
    return same && worst <= bound;
}

void run(std::int64_t tokens, std::int64_t channels, int reps)
{
    const auto x = qs_bench::with_outliers(tokens, channels);
    std::printf("[%lld, %lld] float32\n", static_cast<long long>(tokens),
                static_cast<long long>(channels));
    const auto kernel = qs::stats_detail::summarize_matrix(x, 6.0);
    const auto tensor_ops = qs::stats_detail::summarize_matrix_tensor_ops(x, 6.0);
    if (!same_summary(kernel, tensor_ops, tokens)) {
        std::printf("  MISMATCH: the kernel reduction differs from the tensor-op one\n");
        std::exit(1);
    }
    const double t_add = best_ms(
        [&] {
            qs::ActivationStatsAccumulator acc(channels);
            acc.add(x);
        },
        reps);
    const double t_old =
        best_ms([&] { qs::stats_detail::summarize_matrix_tensor_ops(x, 6.0); }, reps);
    const double t_new = best_ms([&] { qs::stats_detail::summarize_matrix(x, 6.0); }, reps);
    const double t_kernel = best_ms([&] { qs::kernels::channel_abs_stats(x); }, reps);
    const double gb = 4.0 * double(x.numel()) / 1e9;
    std::printf("  add() with the kernel              %8.1f ms\n", t_add);
    std::printf("  reduction, tensor ops (former add) %8.1f ms\n", t_old);
    std::printf("  reduction, with the kernel         %8.1f ms  (%.2fx)\n", t_new, t_old / t_new);
    std::printf("  channel_abs_stats alone            %8.1f ms  (%.1f GB/s read)\n", t_kernel,
                gb / t_kernel * 1e3);
}

}  // namespace

int main(int argc, char** argv)
{
    const int reps = qs_bench::start_micro_bench(argc, argv);
    run(8192, 11008, reps);
    run(8192, 4096, reps);
    return 0;
}
