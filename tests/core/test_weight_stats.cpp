// compute_weight_stats on synthetic checkpoints with closed-form answers: channel absmax,
// histogram mass, and Pearson kurtosis (two-point = 1, uniform -> 1.8).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/weight_stats.h"
#include "core/io/safetensors_writer.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "tests/core/test_support.h"

namespace {

double total(const std::vector<double>& counts)
{
    return std::accumulate(counts.begin(), counts.end(), 0.0);
}

// One model.safetensors in a temp dir holding the tensors the tests below read.
class WeightStatsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        qs::SafetensorsWriter writer;
        // [2 x 3]: row absmax {3, 6}, column absmax {4, 5, 6}.
        const std::vector<float> small = {1, -2, 3, -4, 5, -6};
        writer.add_f32("small", {2, 3}, small.data());

        // Half -1, half +1: mean 0, std 1, E[z^4] = 1 exactly.
        std::vector<float> two_point(1000);
        for (std::size_t i = 0; i < two_point.size(); ++i)
            two_point[i] = i % 2 ? 1.0f : -1.0f;
        writer.add_f32("two_point", {10, 100}, two_point.data());

        // Evenly spaced grid on [-1, 1]: the discrete uniform's kurtosis tends to 1.8.
        const int n = 4001;
        std::vector<float> grid(n);
        for (int i = 0; i < n; ++i)
            grid[i] = -1.0f + 2.0f * i / (n - 1);
        writer.add_f32("grid", {n}, grid.data());

        const std::vector<float> constant(8, 0.25f);
        writer.add_f32("constant", {8}, constant.data());

        writer.write(m_dir.file("model.safetensors"));
    }

    qs::WeightStats stats(const std::string& name, int bins = 16)
    {
        return qs::compute_weight_stats(m_dir.path(), name, bins);
    }

    qs::test::TempDir m_dir;
};

TEST_F(WeightStatsTest, ChannelAbsmaxFollowsOutInLayout)
{
    auto s = stats("small");
    EXPECT_EQ(s.tensor_name, "small");
    EXPECT_EQ(s.rows, 2);
    EXPECT_EQ(s.cols, 3);
    EXPECT_EQ(s.out_channel_absmax, (std::vector<float>{3, 6}));
    EXPECT_EQ(s.in_channel_absmax, (std::vector<float>{4, 5, 6}));
    EXPECT_DOUBLE_EQ(s.min, -6);
    EXPECT_DOUBLE_EQ(s.max, 5);
    EXPECT_DOUBLE_EQ(s.absmax, 6);
    EXPECT_DOUBLE_EQ(s.mean, -0.5);
}

TEST_F(WeightStatsTest, HistogramCoversEveryElement)
{
    for (const char* name : {"small", "two_point", "grid", "constant"}) {
        auto s = stats(name, 16);
        SCOPED_TRACE(name);
        ASSERT_EQ(s.histogram.counts.size(), 16u);
        ASSERT_EQ(s.histogram.edges.size(), 17u);
        EXPECT_DOUBLE_EQ(total(s.histogram.counts), static_cast<double>(s.rows * s.cols));
        for (std::size_t i = 1; i < s.histogram.edges.size(); ++i)
            EXPECT_LT(s.histogram.edges[i - 1], s.histogram.edges[i]);
    }
    auto s = stats("small", 16);
    EXPECT_DOUBLE_EQ(s.histogram.edges.front(), -6);
    EXPECT_DOUBLE_EQ(s.histogram.edges.back(), 5);
    EXPECT_EQ(s.histogram.counts.front(), 1);  // -6 alone in the lowest bin
    EXPECT_EQ(s.histogram.counts.back(), 1);   // the maximum lands in the closed last bin
}

TEST_F(WeightStatsTest, TwoPointKurtosisIsOne)
{
    auto s = stats("two_point");
    EXPECT_NEAR(s.mean, 0.0, 1e-12);
    EXPECT_NEAR(s.std, 1.0, 1e-12);  // population std: divides by N
    EXPECT_NEAR(s.kurtosis_pearson, 1.0, 1e-9);
    EXPECT_NEAR(s.kurtosis_excess(), -2.0, 1e-9);
    auto h = stats("two_point", 2).histogram;
    EXPECT_EQ(h.counts, (std::vector<double>{500, 500}));
}

TEST_F(WeightStatsTest, UniformGridKurtosisIsNearOnePointEight)
{
    auto s = stats("grid");
    // Discrete uniform on n points: 3(3n^2 - 7) / (5(n^2 - 1)) = 1.8 - O(1/n^2).
    const double n = 4001;
    EXPECT_NEAR(s.kurtosis_pearson, 3 * (3 * n * n - 7) / (5 * (n * n - 1)), 1e-5);
    EXPECT_NEAR(s.kurtosis_pearson, 1.8, 1e-3);
    EXPECT_NEAR(s.std, std::sqrt(1.0 / 3.0), 1e-3);
}

TEST_F(WeightStatsTest, OneDimensionalTensorIsOneColumn)
{
    auto s = stats("grid");
    EXPECT_EQ(s.rows, 4001);
    EXPECT_EQ(s.cols, 1);
    ASSERT_EQ(s.out_channel_absmax.size(), 4001u);
    ASSERT_EQ(s.in_channel_absmax.size(), 1u);
    EXPECT_FLOAT_EQ(s.in_channel_absmax[0], 1.0f);
    EXPECT_FLOAT_EQ(s.out_channel_absmax[2000], 0.0f);
}

TEST_F(WeightStatsTest, ConstantTensorHasUndefinedKurtosis)
{
    auto s = stats("constant");
    EXPECT_DOUBLE_EQ(s.std, 0.0);
    EXPECT_TRUE(std::isnan(s.kurtosis_pearson));
}

TEST_F(WeightStatsTest, UnknownTensorIsAQsError)
{
    EXPECT_THROW(stats("model.layers.0.nope.weight"), qs::QsError);
    EXPECT_THROW(stats("small", 0), qs::QsError);
}

TEST_F(WeightStatsTest, CancelledFeedbackStopsTheComputation)
{
    qs::Feedback feedback;
    feedback.cancel();
    EXPECT_THROW(qs::compute_weight_stats(m_dir.path(), "small", 16, &feedback),
                 qs::CancelledError);
}

TEST_F(WeightStatsTest, ProgressReachesOne)
{
    qs::Feedback feedback;
    std::vector<double> seen;
    feedback.set_listener([&](double fraction, const std::string&) { seen.push_back(fraction); });
    qs::compute_weight_stats(m_dir.path(), "small", 16, &feedback);
    ASSERT_FALSE(seen.empty());
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_DOUBLE_EQ(seen.back(), 1.0);
}

}  // namespace
