// The activation statistics with the channel_stats kernel (summarize_matrix, hence
// ActivationStatsAccumulator::add) against the former all-torch reduction kept as the reference
// (summarize_matrix_tensor_ops): every scalar identical, the per-channel absmax bit for bit, the
// per-channel sum |x| within the float32 rounding of the tensor-op tiles, on token counts that
// are not a multiple of the kernel's 256-token chunk, NaN / +-inf, column-tiled wide rows,
// strided, float64 and bf16 / fp16 batches.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/analysis/tensor_stats.h"
#include "core/analysis/tensor_stats_reduce.h"
#include "core/kernels/channel_stats.h"

using qs::stats_detail::MatrixSummary;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kOutlier = 3.0;

// Relative error of float32 sums of n terms, with room: the tensor-op path sums in float32 tiles.
double sum_tolerance(std::int64_t tokens)
{
    return 4.0 * double(tokens) * std::ldexp(1.0, -24);
}

bool same_value(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

// Bits of the kernel's sums: the result of the kernel path must be exactly the kernel's.
bool same_bits(const std::vector<double>& a, const torch::Tensor& b)
{
    auto t = b.to(torch::kFloat64).contiguous();
    return std::int64_t(a.size()) == t.numel() &&
           std::memcmp(a.data(), t.data_ptr<double>(), a.size() * sizeof(double)) == 0;
}

void expect_summaries_match(const MatrixSummary& got, const MatrixSummary& ref, std::int64_t tokens)
{
    EXPECT_TRUE(same_value(got.moments.n, ref.moments.n));
    EXPECT_TRUE(same_value(got.moments.mean, ref.moments.mean));
    EXPECT_TRUE(same_value(got.moments.m2, ref.moments.m2));
    EXPECT_TRUE(same_value(got.moments.m3, ref.moments.m3));
    EXPECT_TRUE(same_value(got.moments.m4, ref.moments.m4));
    EXPECT_TRUE(same_value(got.min, ref.min));
    EXPECT_TRUE(same_value(got.max, ref.max));
    EXPECT_EQ(got.count_above, ref.count_above);
    EXPECT_EQ(got.zeros, ref.zeros);
    ASSERT_EQ(got.channel_absmax.size(), ref.channel_absmax.size());
    ASSERT_EQ(got.channel_sum_abs.size(), ref.channel_sum_abs.size());
    for (std::size_t c = 0; c < got.channel_absmax.size(); ++c) {
        EXPECT_TRUE(same_value(got.channel_absmax[c], ref.channel_absmax[c]))
            << "channel " << c << ": absmax " << got.channel_absmax[c] << " vs "
            << ref.channel_absmax[c];
        const double a = got.channel_sum_abs[c], b = ref.channel_sum_abs[c];
        if (!std::isfinite(b)) {
            EXPECT_TRUE(same_value(a, b)) << "channel " << c << ": sum " << a << " vs " << b;
            continue;
        }
        EXPECT_LE(std::abs(a - b), sum_tolerance(tokens) * b)
            << "channel " << c << ": sum " << a << " vs " << b;
    }
}

// summarize_matrix (kernel for float32) against summarize_matrix_tensor_ops on x2d.
void check_matrix(const torch::Tensor& x2d)
{
    SCOPED_TRACE("[" + std::to_string(x2d.size(0)) + ", " + std::to_string(x2d.size(1)) + "] " +
                 std::string(c10::toString(x2d.scalar_type())));
    const auto got = qs::stats_detail::summarize_matrix(x2d, kOutlier);
    const auto ref = qs::stats_detail::summarize_matrix_tensor_ops(x2d, kOutlier);
    expect_summaries_match(got, ref, x2d.size(0));
    if (x2d.scalar_type() == torch::kFloat32) {
        // The channel vectors are the kernel's own (so its fixed summation order holds).
        const auto kernel = qs::kernels::channel_abs_stats(x2d);
        EXPECT_TRUE(same_bits(got.channel_sum_abs, kernel.sum_abs));
    }
}

torch::Tensor with_outlier_channel(std::int64_t tokens, std::int64_t channels)
{
    auto x = torch::randn({tokens, channels});
    x.select(1, channels / 2).mul_(40.0f);
    return x;
}

TEST(TensorStatsKernel, SummaryMatchesTensorOpsOnOddTokenCounts)
{
    torch::manual_seed(11);
    // 1001 and 2051 are odd and leave a partial last chunk; 257 one token past a chunk.
    for (std::int64_t tokens : {1, 255, 256, 257, 1001, 2051})
        check_matrix(with_outlier_channel(tokens, 96));
    // Wider than a CPU tile: the tensor-op path tiles the channels too.
    check_matrix(with_outlier_channel(5, 40000));
    // A strided view (every other token, a slice of the channels).
    auto wide = torch::randn({1001, 300});
    check_matrix(wide.slice(0, 0, 1001, 2).slice(1, 10, 250));
    // float64 keeps the tensor-op path: the same summary exactly.
    const auto x64 = with_outlier_channel(777, 64).to(torch::kFloat64);
    const auto got = qs::stats_detail::summarize_matrix(x64, kOutlier);
    const auto ref = qs::stats_detail::summarize_matrix_tensor_ops(x64, kOutlier);
    EXPECT_EQ(got.channel_absmax, ref.channel_absmax);
    EXPECT_EQ(got.channel_sum_abs, ref.channel_sum_abs);
}

TEST(TensorStatsKernel, NanAndInfinityPropagateAsInTensorOps)
{
    torch::manual_seed(12);
    auto x = torch::randn({1001, 8});
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    x[3][0] = nan;     // first chunk
    x[1000][1] = nan;  // the partial last chunk
    x[17][2] = inf;    // +inf
    x[600][3] = -inf;  // -inf: |x| = +inf
    x[5][4] = inf;     // +inf and -inf in one channel: sum |x| = +inf, not NaN
    x[900][4] = -inf;
    x[20][5] = inf;  // inf and NaN in one channel: NaN wins
    x[21][5] = nan;
    x[0][6] = -0.0f;  // only a signed zero
    check_matrix(x);
    const auto s = qs::stats_detail::summarize_matrix(x, kOutlier);
    EXPECT_TRUE(std::isnan(s.channel_absmax[0]));
    EXPECT_TRUE(std::isnan(s.channel_sum_abs[1]));
    EXPECT_EQ(s.channel_absmax[2], kInf);
    EXPECT_EQ(s.channel_sum_abs[3], kInf);
    EXPECT_EQ(s.channel_sum_abs[4], kInf);
    EXPECT_TRUE(std::isnan(s.channel_absmax[5]));
    EXPECT_TRUE(std::isfinite(s.channel_sum_abs[6]));

    // The accumulator takes such a batch and refuses to summarise it, as before.
    qs::ActivationStatsAccumulator acc(8);
    acc.add(x);
    EXPECT_THROW(acc.finish(), std::exception);
}

// What ActivationStatsAccumulator::add kept per channel before the kernel: the tensor-op
// summaries of each batch, absmax by max and sum |x| added in float64, then finish()'s
// float32 absmax and sum / tokens.
struct ReferenceChannels {
    std::vector<float> absmax, mean_abs;
};

ReferenceChannels reference_channels(const std::vector<torch::Tensor>& batches)
{
    const auto channels = static_cast<std::size_t>(batches.front().size(-1));
    std::vector<double> absmax(channels, 0.0), sum(channels, 0.0);
    std::int64_t tokens = 0;
    for (const auto& b : batches) {
        const auto x2d = b.reshape({-1, b.size(-1)}).to(torch::kFloat32).contiguous();
        const auto s = qs::stats_detail::summarize_matrix_tensor_ops(x2d, kOutlier);
        for (std::size_t c = 0; c < channels; ++c) {
            absmax[c] = std::max(absmax[c], s.channel_absmax[c]);
            sum[c] += s.channel_sum_abs[c];
        }
        tokens += x2d.size(0);
    }
    ReferenceChannels r;
    for (std::size_t c = 0; c < channels; ++c) {
        r.absmax.push_back(static_cast<float>(absmax[c]));
        r.mean_abs.push_back(static_cast<float>(sum[c] / double(tokens)));
    }
    return r;
}

// Units in the last place between two floats of the same sign.
std::int64_t ulps(float a, float b)
{
    std::int32_t ia = 0, ib = 0;
    std::memcpy(&ia, &a, sizeof a);
    std::memcpy(&ib, &b, sizeof b);
    return std::abs(std::int64_t(ia) - std::int64_t(ib));
}

void expect_accumulator_matches(const std::vector<torch::Tensor>& batches, std::int64_t max_ulps)
{
    const auto channels = batches.front().size(-1);
    qs::StatsOptions options;
    options.outlier_value = kOutlier;
    qs::ActivationStatsAccumulator acc(channels, options);
    for (const auto& b : batches)
        acc.add(b);
    const auto s = acc.finish();
    const auto ref = reference_channels(batches);
    ASSERT_EQ(s.in_absmax.size(), ref.absmax.size());
    std::int64_t worst = 0;
    for (std::size_t c = 0; c < ref.absmax.size(); ++c) {
        EXPECT_EQ(s.in_absmax[c], ref.absmax[c]) << "channel " << c;
        worst = std::max(worst, ulps(s.in_mean_abs[c], ref.mean_abs[c]));
    }
    EXPECT_LE(worst, max_ulps) << "largest difference of mean |x| in float32 ulps";
    // The rankings follow from in_absmax, which is identical.
    std::vector<std::int32_t> expected_top;
    std::vector<float> remaining = ref.absmax;
    for (std::size_t k = 0; k < s.top_channels.size(); ++k) {
        const auto it = std::max_element(remaining.begin(), remaining.end());
        expected_top.push_back(static_cast<std::int32_t>(it - remaining.begin()));
        *it = -1.0f;
    }
    EXPECT_EQ(s.top_channels, expected_top);
}

TEST(TensorStatsKernel, AccumulatorMatchesTensorOpReduction)
{
    torch::manual_seed(13);
    // Uneven batches, none a multiple of 256 tokens, one with leading dimensions.
    const auto x = with_outlier_channel(2311, 200);
    std::vector<torch::Tensor> batches = {
        x.slice(0, 0, 1001), x.slice(0, 1001, 1004), x.slice(0, 1004, 1260),
        x.slice(0, 1260, 2310).reshape({3, 350, 200}), x.slice(0, 2310, 2311)};
    // mean |x| is rounded to float32 from float64 sums that agree to ~1e-7 relative or better.
    expect_accumulator_matches(batches, 1);
}

TEST(TensorStatsKernel, AccumulatorTakesBf16AndFp16Batches)
{
    torch::manual_seed(14);
    for (auto dtype : {torch::kBFloat16, torch::kHalf}) {
        SCOPED_TRACE(std::string(c10::toString(dtype)));
        const auto x = with_outlier_channel(1001, 128).to(dtype);
        // A transposed (non-contiguous) batch as well: converted in one copy.
        const auto t = with_outlier_channel(128, 513).to(dtype).t();
        expect_accumulator_matches({x}, 1);
        expect_accumulator_matches({t}, 1);
        // The compute-dtype batch gives what its float32 values give.
        qs::ActivationStatsAccumulator from_half(128), from_float(128);
        from_half.add(x);
        from_float.add(x.to(torch::kFloat32));
        const auto a = from_half.finish(), b = from_float.finish();
        EXPECT_EQ(a.in_absmax, b.in_absmax);
        EXPECT_EQ(a.in_mean_abs, b.in_mean_abs);
        EXPECT_EQ(a.kurtosis_pearson, b.kurtosis_pearson);
    }
}

}  // namespace
