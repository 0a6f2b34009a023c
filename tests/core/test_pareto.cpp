// pareto_frontier / frontier_order on hand-made points (dominated, ties on either axis, exact
// duplicates, non-finite values, trivial inputs) and against a brute-force O(n^2) definition on
// random integer points full of ties.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/pareto.h"
#include "core/util/error.h"

using qs::frontier_order;
using qs::pareto_frontier;
using Flags = std::vector<bool>;
using Indices = std::vector<std::size_t>;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The definition, verbatim: dominated when another finite point is <= on both, < on one.
Flags brute_force_frontier(const std::vector<double>& size, const std::vector<double>& ppl)
{
    Flags on(size.size(), false);
    for (std::size_t p = 0; p < size.size(); ++p) {
        if (!std::isfinite(size[p]) || !std::isfinite(ppl[p])) continue;
        bool dominated = false;
        for (std::size_t q = 0; q < size.size() && !dominated; ++q) {
            if (q == p || !std::isfinite(size[q]) || !std::isfinite(ppl[q])) continue;
            dominated =
                size[q] <= size[p] && ppl[q] <= ppl[p] && (size[q] < size[p] || ppl[q] < ppl[p]);
        }
        on[p] = !dominated;
    }
    return on;
}

}  // namespace

TEST(Pareto, EmptyInput)
{
    EXPECT_TRUE(pareto_frontier({}, {}).empty());
    EXPECT_TRUE(frontier_order({}, {}).empty());
}

TEST(Pareto, SinglePoint)
{
    EXPECT_EQ(pareto_frontier({3.0}, {12.0}), (Flags{true}));
    EXPECT_EQ(frontier_order({3.0}, {12.0}), (Indices{0}));
    EXPECT_EQ(pareto_frontier({3.0}, {kNaN}), (Flags{false}));
    EXPECT_TRUE(frontier_order({3.0}, {kNaN}).empty());
}

TEST(Pareto, DominatedPointIsOff)
{
    // (3, 7) is beaten by (2, 5) on both axes.
    const std::vector<double> size = {1, 2, 3}, ppl = {10, 5, 7};
    EXPECT_EQ(pareto_frontier(size, ppl), (Flags{true, true, false}));
    EXPECT_EQ(frontier_order(size, ppl), (Indices{0, 1}));
}

TEST(Pareto, TiesOnSizeKeepLowestPpl)
{
    const std::vector<double> size = {1, 1, 1, 2}, ppl = {10, 8, 9, 7};
    EXPECT_EQ(pareto_frontier(size, ppl), (Flags{false, true, false, true}));
}

TEST(Pareto, TiesOnPplKeepSmallestSize)
{
    const std::vector<double> size = {2, 1, 3}, ppl = {5, 5, 4};
    EXPECT_EQ(pareto_frontier(size, ppl), (Flags{false, true, true}));
    EXPECT_EQ(frontier_order(size, ppl), (Indices{1, 2}));
}

TEST(Pareto, ExactDuplicatesShareTheirFate)
{
    // Duplicates on the frontier: both stay.
    EXPECT_EQ(pareto_frontier({1, 2, 1}, {5, 4, 5}), (Flags{true, true, true}));
    EXPECT_EQ(frontier_order({1, 2, 1}, {5, 4, 5}), (Indices{0, 2, 1}));
    // Duplicates behind a better point: both go.
    EXPECT_EQ(pareto_frontier({1, 1, 0.5}, {5, 5, 4}), (Flags{false, false, true}));
    // A duplicate pair at a size tie with a better ppl: both go.
    EXPECT_EQ(pareto_frontier({1, 1, 1}, {5, 5, 4.5}), (Flags{false, false, true}));
}

TEST(Pareto, NonFinitePointsNeverCountNorDominate)
{
    // Each non-finite point would dominate (2, 3) if it counted.
    const std::vector<double> size = {kNaN, 1, 1, -kInf, 0.5, 2, kInf};
    const std::vector<double> ppl = {1, kNaN, kInf, 1, -kInf, 3, 0};
    EXPECT_EQ(pareto_frontier(size, ppl), (Flags{false, false, false, false, false, true, false}));
    EXPECT_EQ(frontier_order(size, ppl), (Indices{5}));
}

TEST(Pareto, AllOnFrontierOrderedBySize)
{
    const std::vector<double> size = {4, 1, 3, 2}, ppl = {6, 20, 8, 11};
    EXPECT_EQ(pareto_frontier(size, ppl), (Flags{true, true, true, true}));
    EXPECT_EQ(frontier_order(size, ppl), (Indices{1, 3, 2, 0}));
}

TEST(Pareto, MismatchedLengthsThrow)
{
    EXPECT_THROW(pareto_frontier({1, 2}, {3}), qs::QsError);
}

TEST(Pareto, MatchesBruteForceWithManyTies)
{
    std::mt19937 rng(123);
    std::uniform_int_distribution<int> coordinate(0, 6), special(0, 19);
    for (int trial = 0; trial < 300; ++trial) {
        const std::size_t n = static_cast<std::size_t>(trial % 25);
        std::vector<double> size(n), ppl(n);
        for (std::size_t i = 0; i < n; ++i) {
            size[i] = coordinate(rng);
            ppl[i] = coordinate(rng);
            if (special(rng) == 0) ppl[i] = kNaN;
            if (special(rng) == 0) size[i] = kInf;
        }
        SCOPED_TRACE("trial " + std::to_string(trial));
        const Flags expected = brute_force_frontier(size, ppl);
        ASSERT_EQ(pareto_frontier(size, ppl), expected);
        const Indices order = frontier_order(size, ppl);
        std::size_t on = 0;
        for (bool b : expected)
            on += b;
        ASSERT_EQ(order.size(), on);
        for (std::size_t k = 0; k < order.size(); ++k) {
            EXPECT_TRUE(expected[order[k]]);
            if (k > 0) EXPECT_LE(size[order[k - 1]], size[order[k]]);
        }
    }
}
