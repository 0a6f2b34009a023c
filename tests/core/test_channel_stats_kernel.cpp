// The per-channel absmax / sum |x| loop (core/kernels/channel_stats_math.h, the arithmetic of the
// CUDA kernel) against the former all-torch statistics path (summarize_matrix_tensor_ops in
// core/analysis/tensor_stats_reduce.cpp) and a float64 torch reduction: absmax exactly, sum |x|
// within float32 rounding of the tiled torch sums, on strided batches, sizes that are not a
// multiple of the 256-token chunk, and NaN / -0.0 inputs. tests/core/test_tensor_stats_kernel.cpp
// checks the accumulator that uses it.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/analysis/tensor_stats_reduce.h"
#include "core/kernels/channel_stats.h"

namespace {

// Relative error of float32 sums of n terms, with room: the torch path sums in float32 tiles.
double sum_tolerance(std::int64_t tokens)
{
    return 4.0 * double(tokens) * std::ldexp(1.0, -24);
}

void check_against_torch(const torch::Tensor& x2d)
{
    SCOPED_TRACE("[" + std::to_string(x2d.size(0)) + ", " + std::to_string(x2d.size(1)) + "]");
    const auto got = qs::kernels::channel_abs_stats(x2d);
    const auto summary = qs::stats_detail::summarize_matrix_tensor_ops(x2d, 1e9);
    const auto exact_sum = x2d.abs().to(torch::kFloat64).sum(0);
    ASSERT_EQ(got.absmax.numel(), x2d.size(1));
    for (std::int64_t c = 0; c < x2d.size(1); ++c) {
        const auto i = static_cast<std::size_t>(c);
        EXPECT_EQ(double(got.absmax[c].item<float>()), summary.channel_absmax[i])
            << "channel " << c;
        const double sum = got.sum_abs[c].item<double>();
        EXPECT_NEAR(sum, exact_sum[c].item<double>(), 1e-12 * exact_sum[c].item<double>());
        EXPECT_NEAR(sum, summary.channel_sum_abs[i],
                    sum_tolerance(x2d.size(0)) * summary.channel_sum_abs[i])
            << "channel " << c;
    }
}

TEST(ChannelStatsKernel, MatchesTheTensorOpStatisticsPath)
{
    torch::manual_seed(5);
    for (std::int64_t tokens : {1, 255, 256, 700, 2051}) {
        auto x = torch::randn({tokens, 96});
        x.select(1, 7).mul_(40.0);  // an outlier channel
        check_against_torch(x);
    }
    // A strided batch: every other token of a wider matrix, a slice of its channels.
    auto wide = torch::randn({1000, 300});
    check_against_torch(wide.slice(0, 0, 1000, 2).slice(1, 10, 250));
}

TEST(ChannelStatsKernel, NanNegativeZeroAndEmpty)
{
    auto x = torch::zeros({300, 4});
    x[0][0] = -0.0f;
    x[299][1] = std::numeric_limits<float>::quiet_NaN();
    x[5][2] = -3.0f;
    x[260][3] = 2.0f;
    const auto got = qs::kernels::channel_abs_stats(x);
    EXPECT_FALSE(std::signbit(got.absmax[0].item<float>()));  // |-0| = +0
    EXPECT_TRUE(std::isnan(got.absmax[1].item<float>()));     // NaN propagates as in amax
    EXPECT_TRUE(std::isnan(got.sum_abs[1].item<double>()));
    EXPECT_EQ(got.absmax[2].item<float>(), 3.0f);
    EXPECT_EQ(got.sum_abs[3].item<double>(), 2.0);  // in the second chunk
    const auto empty = qs::kernels::channel_abs_stats(torch::zeros({0, 3}));
    EXPECT_EQ(empty.absmax.sum().item<float>(), 0.0f);
    EXPECT_THROW(qs::kernels::channel_abs_stats(torch::zeros({4, 3}, torch::kFloat64)),
                 std::exception);
}

}  // namespace
