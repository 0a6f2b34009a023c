// compute_weight_tensor_stats and ActivationStatsAccumulator against closed-form values and a
// direct two-pass float64 reference: kurtosis (two-point 1, discrete uniform, {-2..2} 1.7,
// Laplace 6), streaming = one-shot under uneven batching, a mean of 1e4 with std 1, outlier
// channels, counts, log histogram, top-k ties and the histogram sample cap.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/analysis/tensor_stats.h"
#include "core/util/error.h"
#include "core/util/threading.h"

using qs::ActivationStatsAccumulator;
using qs::StatsOptions;
using qs::TensorStats;

namespace {

// Two-pass float64 moments of every element: the reference the streaming merge must match.
struct ReferenceMoments {
    double mean = 0, std = 0, pearson = 0;
};

ReferenceMoments reference_moments(const torch::Tensor& x)
{
    auto d = x.to(torch::kFloat64).reshape({-1});
    ReferenceMoments r;
    r.mean = d.mean().item<double>();
    auto centred = d - r.mean;
    const double m2 = centred.square().mean().item<double>();
    const double m4 = centred.square().square().mean().item<double>();
    r.std = std::sqrt(m2);
    r.pearson = m4 / (m2 * m2);
    return r;
}

double total(const std::vector<double>& counts)
{
    return std::accumulate(counts.begin(), counts.end(), 0.0);
}

// |actual - expected| <= rel * scale, printing all three on failure.
void expect_relative(double actual, double expected, double rel, double scale, const char* what)
{
    EXPECT_LE(std::abs(actual - expected), rel * scale)
        << what << ": expected " << expected << ", actual " << actual << ", difference "
        << actual - expected;
}

TensorStats stream(const torch::Tensor& x2d, const std::vector<std::int64_t>& batch_rows,
                   const StatsOptions& options = {})
{
    ActivationStatsAccumulator acc(x2d.size(1), options);
    std::int64_t row = 0;
    for (std::int64_t n : batch_rows) {
        acc.add(x2d.slice(0, row, row + n));
        row += n;
    }
    EXPECT_EQ(row, x2d.size(0)) << "batches must cover the data";
    EXPECT_EQ(acc.tokens(), x2d.size(0));
    return acc.finish();
}

// Dyadic values k / 64, |k| <= 512, with exact zeros: every float64 sum of them is exact, so
// channel sums cannot depend on the batching.
torch::Tensor dyadic_data(std::int64_t rows, std::int64_t cols, std::uint64_t seed)
{
    torch::manual_seed(seed);
    auto k = torch::randint(-512, 513, {rows, cols}, torch::kLong);
    k.masked_fill_(torch::rand({rows, cols}) < 0.05, 0);
    return k.to(torch::kFloat32) / 64.0;
}

}  // namespace

TEST(TensorStatsKurtosis, TwoPointIsOne)
{
    auto w = torch::ones({10, 100});
    w.view({-1}).slice(0, 0, 1000, 2).fill_(-1.0);  // alternating -1, +1
    w *= 2.5;
    auto s = qs::compute_weight_tensor_stats(w);
    EXPECT_DOUBLE_EQ(s.kurtosis_pearson, 1.0);
    EXPECT_DOUBLE_EQ(s.kurtosis_excess(), -2.0);
    EXPECT_DOUBLE_EQ(s.mean, 0.0);
    EXPECT_DOUBLE_EQ(s.std, 2.5);
}

TEST(TensorStatsKurtosis, UniformGridMatchesDiscreteUniform)
{
    // n evenly spaced points: excess = -6 (n^2 + 1) / (5 (n^2 - 1)), which tends to -1.2.
    const std::int64_t n = 4001;
    auto grid = torch::linspace(-1.0, 1.0, n, torch::kFloat64).reshape({1, n});
    auto s = qs::compute_weight_tensor_stats(grid);
    const double nn = double(n) * double(n);
    const double expected = 3.0 - 6.0 * (nn + 1.0) / (5.0 * (nn - 1.0));
    expect_relative(s.kurtosis_pearson, expected, 1e-9, expected, "pearson");
    EXPECT_NEAR(s.kurtosis_pearson, 1.8, 1e-6);
}

TEST(TensorStatsKurtosis, FivePointPatternIsExact)
{
    // {-2, -1, 0, 1, 2}: mean 0, variance 2, E[x^4] = 34 / 5, so pearson = 6.8 / 4 = 1.7.
    auto pattern = torch::tensor({-2.0f, -1.0f, 0.0f, 1.0f, 2.0f});
    auto w = pattern.repeat({600}).reshape({100, 30});
    auto s = qs::compute_weight_tensor_stats(w);
    EXPECT_NEAR(s.kurtosis_pearson, 1.7, 1e-12);
    EXPECT_NEAR(s.kurtosis_excess(), -1.3, 1e-12);
    EXPECT_NEAR(s.std, std::sqrt(2.0), 1e-12);
    EXPECT_EQ(s.zeros, 600);
}

TEST(TensorStatsKurtosis, LaplaceSampleIsNearSix)
{
    // The difference of two Exp(1) variables is Laplace(0, 1): pearson 6, excess 3. With 4M
    // samples the estimate's standard error is about 0.03.
    torch::manual_seed(7);
    const std::int64_t tokens = 1 << 16, channels = 64;
    auto x = torch::empty({tokens, channels}).exponential_() -
             torch::empty({tokens, channels}).exponential_();
    std::vector<std::int64_t> batches(32, tokens / 32);
    auto s = stream(x, batches);
    EXPECT_NEAR(s.kurtosis_pearson, 6.0, 0.2);
    EXPECT_NEAR(s.kurtosis_excess(), s.kurtosis_pearson - 3.0, 0.0);
    expect_relative(s.kurtosis_pearson, reference_moments(x).pearson, 1e-9, 6.0, "pearson");
}

TEST(TensorStatsStreaming, UnevenBatchesEqualOneShot)
{
    const auto x = dyadic_data(1000, 24, 3);
    StatsOptions options;
    options.histogram_tokens = 100;  // sampled: the sample must not depend on the batching
    auto one_shot = stream(x, {1000}, options);
    auto batched = stream(x, {1, 7, 300, 2, 0, 690}, options);
    const auto ref = reference_moments(x);

    for (const TensorStats* s : {&one_shot, &batched}) {
        expect_relative(s->mean, ref.mean, 1e-9, ref.std, "mean");
        expect_relative(s->std, ref.std, 1e-9, ref.std, "std");
        expect_relative(s->kurtosis_pearson, ref.pearson, 1e-9, ref.pearson, "pearson");
    }
    EXPECT_EQ(batched.rows, 1000);
    EXPECT_EQ(batched.cols, 24);
    EXPECT_EQ(batched.min, one_shot.min);
    EXPECT_EQ(batched.max, one_shot.max);
    EXPECT_EQ(batched.min, x.min().item<double>());
    EXPECT_EQ(batched.max, x.max().item<double>());
    EXPECT_EQ(batched.absmax, x.abs().max().item<double>());
    EXPECT_EQ(batched.count_above, one_shot.count_above);
    EXPECT_EQ(batched.count_above, x.abs().gt(6.0).sum().item<std::int64_t>());
    EXPECT_EQ(batched.zeros, x.eq(0).sum().item<std::int64_t>());
    EXPECT_EQ(batched.in_absmax, one_shot.in_absmax);
    EXPECT_EQ(batched.in_mean_abs, one_shot.in_mean_abs);
    EXPECT_TRUE(batched.out_absmax.empty());
    EXPECT_TRUE(batched.out_mean_abs.empty());

    auto absmax = std::get<0>(x.abs().max(0));
    auto mean_abs = x.abs().to(torch::kFloat64).mean(0).to(torch::kFloat32);
    for (std::int64_t c = 0; c < 24; ++c) {
        EXPECT_EQ(batched.in_absmax[c], absmax[c].item<float>()) << "channel " << c;
        EXPECT_EQ(batched.in_mean_abs[c], mean_abs[c].item<float>()) << "channel " << c;
    }
    EXPECT_EQ(batched.histogram.edges, one_shot.histogram.edges);
    EXPECT_EQ(batched.histogram.counts, one_shot.histogram.counts);
    EXPECT_EQ(batched.log_histogram.edges, one_shot.log_histogram.edges);
    EXPECT_EQ(batched.log_histogram.counts, one_shot.log_histogram.counts);
    EXPECT_EQ(batched.top_channels, one_shot.top_channels);
    EXPECT_EQ(batched.outlier_channels, one_shot.outlier_channels);
}

TEST(TensorStatsStreaming, ThreadCountDoesNotChangeResults)
{
    // Tiles are reduced in a fixed number of runs merged in order, whatever the thread count.
    torch::manual_seed(9);
    auto x = torch::randn({3000, 96}) + 2.0;
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    auto one = stream(x, {1000, 2000});
    at::set_num_threads(2);
    auto two = stream(x, {1000, 2000});
    at::set_num_threads(threads);
    EXPECT_EQ(one.mean, two.mean);
    EXPECT_EQ(one.std, two.std);
    EXPECT_EQ(one.kurtosis_pearson, two.kurtosis_pearson);
    EXPECT_EQ(one.in_absmax, two.in_absmax);
    EXPECT_EQ(one.in_mean_abs, two.in_mean_abs);
    EXPECT_EQ(one.histogram.counts, two.histogram.counts);
    EXPECT_EQ(one.log_histogram.counts, two.log_histogram.counts);
}

TEST(TensorStatsStreaming, WideRowsSplitIntoColumnTiles)
{
    // 40000 channels: a row is wider than a CPU tile, so channels are tiled too.
    torch::manual_seed(4);
    auto x = torch::randn({5, 40000});
    x[3][39999] = 50.0;
    StatsOptions options;
    options.top_k = 1;
    auto s = stream(x, {2, 3}, options);
    const auto ref = reference_moments(x);
    expect_relative(s.kurtosis_pearson, ref.pearson, 1e-9, ref.pearson, "pearson");
    auto absmax = std::get<0>(x.abs().max(0));
    auto mean_abs = x.abs().to(torch::kFloat64).mean(0);
    for (std::int64_t c : {0, 32766, 32767, 39999}) {
        EXPECT_EQ(s.in_absmax[c], absmax[c].item<float>()) << "channel " << c;
        EXPECT_NEAR(s.in_mean_abs[c], mean_abs[c].item<double>(), 1e-6) << "channel " << c;
    }
    EXPECT_EQ(s.top_channels, (std::vector<std::int32_t>{39999}));
    EXPECT_EQ(total(s.histogram.counts), 5.0 * 40000.0);
}

TEST(TensorStatsStreaming, LeadingDimensionsAndDtypesAreFlattened)
{
    // bfloat16 keeps 8 significant bits: the float32 run sees the same rounded values.
    const auto x = dyadic_data(60, 8, 5);
    const auto x_bf16 = x.to(torch::kBFloat16);
    ActivationStatsAccumulator acc(8);
    acc.add(x_bf16.reshape({3, 20, 8}));
    auto from_bf16 = acc.finish();
    auto from_f32 = stream(x_bf16.to(torch::kFloat32), {60});
    EXPECT_EQ(from_bf16.rows, 60);
    EXPECT_EQ(from_bf16.in_absmax, from_f32.in_absmax);
    EXPECT_EQ(from_bf16.in_mean_abs, from_f32.in_mean_abs);
    EXPECT_DOUBLE_EQ(from_bf16.kurtosis_pearson, from_f32.kurtosis_pearson);
    EXPECT_EQ(from_bf16.histogram.counts, from_f32.histogram.counts);

    auto from_f64 = stream(x.to(torch::kFloat64), {60});
    auto from_f32_again = stream(x, {60});
    EXPECT_EQ(from_f64.in_absmax, from_f32_again.in_absmax);
    EXPECT_NEAR(from_f64.kurtosis_pearson, from_f32_again.kurtosis_pearson, 1e-12);
}

TEST(TensorStatsStreaming, LargeOffsetKeepsKurtosis)
{
    // Mean 1e4, std 1: raw power sums would need 16+ digits; the centred merge keeps ~1e-9.
    torch::manual_seed(11);
    const std::int64_t tokens = 1 << 15, channels = 32;
    auto x = (1e4 + torch::randn({tokens, channels}, torch::kFloat64)).to(torch::kFloat32);
    // x - 1e4 is exact in float32 for x in [5e3, 2e4] (Sterbenz), so this reference is free of
    // the offset.
    const auto ref = reference_moments(x - 1e4);
    std::vector<std::int64_t> batches;
    for (std::int64_t done = 0, n = 1; done < tokens; done += n, n = std::min(2 * n + 1, tokens))
        batches.push_back(std::min(n, tokens - done));
    auto s = stream(x, batches);
    expect_relative(s.mean - 1e4, ref.mean, 1e-9, 1e4, "mean");
    expect_relative(s.std, ref.std, 1e-9, ref.std, "std");
    expect_relative(s.kurtosis_pearson, ref.pearson, 1e-9, ref.pearson, "pearson");
    EXPECT_NEAR(s.kurtosis_pearson, 3.0, 0.1);
}

TEST(TensorStatsChannels, PlantedOutlierChannel)
{
    torch::manual_seed(5);
    auto x = torch::rand({512, 64}) * 2 - 1;  // channel absmax just under 1
    x.select(1, 17).mul_(10.0);
    x[100][41] = 8.0;  // one spike: 8 > 6 x ~1
    StatsOptions options;
    options.top_k = 3;
    auto s = stream(x, {200, 312}, options);
    EXPECT_EQ(s.outlier_channels, (std::vector<std::int32_t>{17, 41}));
    ASSERT_EQ(s.top_channels.size(), 3u);
    EXPECT_EQ(s.top_channels[0], 17);
    EXPECT_EQ(s.top_channels[1], 41);
    EXPECT_DOUBLE_EQ(s.outlier_k, 6.0);
}

TEST(TensorStatsChannels, OutlierThresholdUsesMedianOfEvenCount)
{
    // Channel absmax {1, 2, 3, v}: median (2 + 3) / 2 = 2.5, threshold 6 x 2.5 = 15, strict.
    auto make = [](float v) {
        return torch::tensor({1.0f, -2.0f, 3.0f, v, 0.5f, 0.5f, 0.5f, 0.5f}).reshape({2, 4});
    };
    EXPECT_TRUE(qs::compute_weight_tensor_stats(make(15.0f)).outlier_channels.empty());
    EXPECT_EQ(qs::compute_weight_tensor_stats(make(-15.5f)).outlier_channels,
              (std::vector<std::int32_t>{3}));
    // Odd count {1, 2, 3, 4, 100}: median 3, threshold 18.
    auto odd = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 100.0f}).reshape({1, 5});
    EXPECT_EQ(qs::compute_weight_tensor_stats(odd).outlier_channels,
              (std::vector<std::int32_t>{4}));
}

TEST(TensorStatsChannels, TopChannelsOrderTiesByIndex)
{
    auto w = torch::tensor({3.0f, -5.0f, 5.0f, 1.0f, 5.0f, 2.0f}).reshape({1, 6});
    StatsOptions options;
    options.top_k = 4;
    EXPECT_EQ(qs::compute_weight_tensor_stats(w, options).top_channels,
              (std::vector<std::int32_t>{1, 2, 4, 0}));
    options.top_k = 16;  // more than there are channels: all of them
    EXPECT_EQ(qs::compute_weight_tensor_stats(w, options).top_channels,
              (std::vector<std::int32_t>{1, 2, 4, 0, 5, 3}));
    options.top_k = 0;
    EXPECT_TRUE(qs::compute_weight_tensor_stats(w, options).top_channels.empty());
}

TEST(TensorStatsCounts, CountAboveZerosAndLogHistogram)
{
    // Magnitudes at log10 = -3, -1.5, -0.5, 0.5, 1.5, 2 land in bins 0..4 of [-3, 2] (5 bins,
    // the last closed); 6 is not above 6, -6.5 is.
    const std::vector<float> values = {0.001f,  -0.0316228f, 0.316228f, -3.16228f, 31.6228f,
                                       -100.0f, 6.0f,        -6.5f,     0.0f,      0.0f};
    auto row = torch::tensor(values);
    auto x = row.repeat({7, 1});  // 7 tokens, 10 channels
    StatsOptions options;
    options.log_bins = 5;
    options.bins = 4;
    auto s = stream(x, {3, 4}, options);
    EXPECT_EQ(s.zeros, 14);
    EXPECT_EQ(s.count_above, 3 * 7);  // 31.6, -100, -6.5
    EXPECT_DOUBLE_EQ(s.outlier_value, 6.0);
    ASSERT_EQ(s.log_histogram.edges.size(), 6u);
    EXPECT_NEAR(s.log_histogram.edges.front(), -3.0, 1e-6);
    EXPECT_NEAR(s.log_histogram.edges.back(), 2.0, 1e-6);
    // log10(6) = 0.78 and log10(6.5) = 0.81 join 3.16 in bin 3.
    EXPECT_EQ(s.log_histogram.counts, (std::vector<double>{7, 7, 7, 21, 14}));
    EXPECT_EQ(total(s.histogram.counts), 70.0);
    EXPECT_DOUBLE_EQ(s.histogram.edges.front(), -100.0);
    EXPECT_NEAR(s.histogram.edges.back(), 31.6228, 1e-4);
}

TEST(TensorStatsCounts, AllZerosGiveEmptyLogRange)
{
    auto s = qs::compute_weight_tensor_stats(torch::zeros({3, 4}));
    EXPECT_EQ(s.zeros, 12);
    EXPECT_EQ(s.log_histogram.edges.front(), -0.5);
    EXPECT_EQ(s.log_histogram.edges.back(), 0.5);
    EXPECT_EQ(total(s.log_histogram.counts), 0.0);
    EXPECT_TRUE(std::isnan(s.kurtosis_pearson));
}

TEST(TensorStatsHistogram, ConstantTensorWidensRange)
{
    auto s = qs::compute_weight_tensor_stats(torch::full({4, 8}, 0.1f));
    EXPECT_EQ(s.std, 0.0);
    EXPECT_TRUE(std::isnan(s.kurtosis_pearson));
    EXPECT_DOUBLE_EQ(s.mean, double(0.1f));
    EXPECT_DOUBLE_EQ(s.histogram.edges.front(), double(0.1f) - 0.5);
    EXPECT_DOUBLE_EQ(s.histogram.edges.back(), double(0.1f) + 0.5);
    EXPECT_EQ(s.histogram.counts[s.histogram.counts.size() / 2], 32.0);
    EXPECT_EQ(total(s.histogram.counts), 32.0);
    EXPECT_EQ(total(s.log_histogram.counts), 32.0);
}

TEST(TensorStatsHistogram, SampleCapKeepsEveryStrideToken)
{
    // Token t holds the value t in every channel, so the histogram range names the sample.
    // 370 tokens with a cap of 50: stride 8 (ceil(370 / 8) = 47 <= 50 < ceil(370 / 4) = 93),
    // tokens 0, 8, ..., 368.
    const std::int64_t tokens = 370, channels = 3;
    auto x = torch::arange(tokens, torch::kFloat32).unsqueeze(1).repeat({1, channels});
    StatsOptions options;
    options.histogram_tokens = 50;
    options.bins = 46;  // one bin per sampled token, the last closed and holding 360 and 368
    for (const std::vector<std::int64_t>& batches :
         {std::vector<std::int64_t>{370}, std::vector<std::int64_t>(10, 37),
          std::vector<std::int64_t>{1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 139}}) {
        auto s = stream(x, batches, options);
        EXPECT_EQ(total(s.histogram.counts), 47.0 * channels);
        EXPECT_EQ(s.histogram.edges.front(), 0.0);
        EXPECT_EQ(s.histogram.edges.back(), 368.0);
        EXPECT_EQ(s.histogram.counts.back(), 2.0 * channels);
        EXPECT_EQ(s.max, 369.0);  // every other statistic still sees every token
        EXPECT_EQ(s.rows, tokens);
    }
}

TEST(TensorStatsWeights, PerChannelStatsFollowOutInLayout)
{
    auto w = torch::tensor({1.0f, -2.0f, 3.0f, -4.0f, 5.0f, -6.0f}).reshape({2, 3});
    auto s = qs::compute_weight_tensor_stats(w);
    EXPECT_EQ(s.rows, 2);
    EXPECT_EQ(s.cols, 3);
    EXPECT_EQ(s.out_absmax, (std::vector<float>{3, 6}));
    EXPECT_EQ(s.out_mean_abs, (std::vector<float>{2, 5}));
    EXPECT_EQ(s.in_absmax, (std::vector<float>{4, 5, 6}));
    EXPECT_EQ(s.in_mean_abs, (std::vector<float>{2.5f, 3.5f, 4.5f}));
    EXPECT_DOUBLE_EQ(s.mean, -0.5);
    EXPECT_DOUBLE_EQ(s.absmax, 6.0);
    EXPECT_EQ(total(s.histogram.counts), 6.0);
    EXPECT_EQ(s.histogram.counts.size(), 128u);
    EXPECT_EQ(s.log_histogram.counts.size(), 64u);
}

TEST(TensorStatsWeights, RowBlocksMatchReference)
{
    // Wide enough that the weight is summarised in several row blocks.
    torch::manual_seed(2);
    auto w = torch::randn({1500, 4096}) * 0.02;
    auto s = qs::compute_weight_tensor_stats(w.to(torch::kBFloat16));
    auto rounded = w.to(torch::kBFloat16).to(torch::kFloat32);
    const auto ref = reference_moments(rounded);
    expect_relative(s.kurtosis_pearson, ref.pearson, 1e-9, 3.0, "pearson");
    expect_relative(s.std, ref.std, 1e-9, ref.std, "std");
    EXPECT_EQ(total(s.histogram.counts), 1500.0 * 4096.0);
    auto out_absmax = std::get<0>(rounded.abs().max(1));
    for (std::int64_t r : {0, 1023, 1024, 1499})
        EXPECT_EQ(s.out_absmax[r], out_absmax[r].item<float>()) << "row " << r;
}

TEST(TensorStatsErrors, BadInputsThrow)
{
    ActivationStatsAccumulator acc(4);
    EXPECT_TRUE(acc.finish().empty());
    EXPECT_THROW(acc.add(torch::zeros({2, 5})), qs::QsError);
    EXPECT_THROW(acc.add(torch::zeros({2, 4}, torch::kLong)), qs::QsError);
    acc.add(torch::tensor({1.0f, 2.0f, std::nanf(""), 4.0f}).reshape({1, 4}));
    EXPECT_THROW(acc.finish(), qs::QsError);
    EXPECT_THROW(qs::compute_weight_tensor_stats(torch::zeros({2, 2, 2})), qs::QsError);
    EXPECT_THROW(qs::compute_weight_tensor_stats(torch::zeros({0, 3})), qs::QsError);
    auto inf_weight = torch::zeros({2, 2});
    inf_weight[1][1] = std::numeric_limits<float>::infinity();
    EXPECT_THROW(qs::compute_weight_tensor_stats(inf_weight), qs::QsError);
    StatsOptions no_bins;
    no_bins.bins = 0;
    EXPECT_THROW(ActivationStatsAccumulator(4, no_bins), qs::QsError);
}

TEST(TensorStatsErrors, InputBufferReusedAfterAdd)
{
    // The sample must not alias the caller's tensor.
    auto buffer = torch::full({4, 2}, 1.0f);
    ActivationStatsAccumulator acc(2);
    acc.add(buffer);
    buffer.fill_(1000.0f);
    auto s = acc.finish();
    EXPECT_EQ(s.histogram.edges.back(), 1.5);
}

// A [65536, 11008] float32 stream in batches of 2048 tokens, timed; run by hand with
// --gtest_also_run_disabled_tests --gtest_filter='*LargeStream*'.
TEST(TensorStatsSpeed, DISABLED_LargeStream)
{
    const std::int64_t channels = 11008, batch = 2048, batches = 32;
    qs::configure_threads();  // QS_THREADS or every core (libtorch starts with one thread)
    torch::manual_seed(1);
    auto x = torch::randn({batch, channels});
    ActivationStatsAccumulator acc(channels);
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t b = 0; b < batches; ++b)
        acc.add(x);
    const auto added = std::chrono::steady_clock::now();
    auto s = acc.finish();
    const auto done = std::chrono::steady_clock::now();
    const auto seconds = [](auto a, auto b) {
        return std::chrono::duration<double>(b - a).count();
    };
    std::printf("add: %.2f s for %lld tokens (%.2f s per batch), finish: %.2f s, threads %d\n",
                seconds(start, added), static_cast<long long>(acc.tokens()),
                seconds(start, added) / batches, seconds(added, done), at::get_num_threads());
    EXPECT_EQ(s.rows, batch * batches);
}
