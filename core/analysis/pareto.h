// Pareto frontier of experiments on the (size, perplexity) plane, both minimised. Rule:
// - Point q dominates point p when size[q] <= size[p] and ppl[q] <= ppl[p] with at least one
//   of the two strictly smaller. The frontier is the set of points no other point dominates.
// - Exact duplicates (same size and same ppl) do not dominate each other: all of them are on
//   the frontier when one is.
// - A point whose size or ppl is not finite (NaN, +-inf: a failed experiment) is never on the
//   frontier and never dominates another point.
// O(n log n): sort by (size, ppl) and sweep.
#pragma once

#include <cstddef>
#include <vector>

namespace qs {

// flags[i] is true when point i is on the frontier. Throws QsError when the sizes differ.
std::vector<bool> pareto_frontier(const std::vector<double>& size, const std::vector<double>& ppl);

// Indices of the frontier points by size ascending (then ppl, then index): the order in which
// the frontier line is drawn.
std::vector<std::size_t> frontier_order(const std::vector<double>& size,
                                        const std::vector<double>& ppl);

}  // namespace qs
