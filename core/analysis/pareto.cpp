// The sweep visits sizes in ascending order, one group of equal sizes at a time, keeping the best
// ppl seen at strictly smaller sizes: within a group only the group's lowest ppl can survive, and
// it survives when it beats every strictly smaller point.
#include "core/analysis/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/util/error.h"

namespace qs {
namespace {

void check_sizes(const std::vector<double>& size, const std::vector<double>& ppl)
{
    if (size.size() != ppl.size())
        throw QsError("pareto_frontier: " + std::to_string(size.size()) + " sizes but " +
                      std::to_string(ppl.size()) + " perplexities");
}

// Finite points ordered by (size, ppl, index).
std::vector<std::size_t> finite_points_sorted(const std::vector<double>& size,
                                              const std::vector<double>& ppl)
{
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < size.size(); ++i)
        if (std::isfinite(size[i]) && std::isfinite(ppl[i])) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (size[a] != size[b]) return size[a] < size[b];
        if (ppl[a] != ppl[b]) return ppl[a] < ppl[b];
        return a < b;
    });
    return order;
}

}  // namespace

std::vector<bool> pareto_frontier(const std::vector<double>& size, const std::vector<double>& ppl)
{
    check_sizes(size, ppl);
    std::vector<bool> on_frontier(size.size(), false);
    const auto order = finite_points_sorted(size, ppl);
    double best_at_smaller_size = std::numeric_limits<double>::infinity();
    std::size_t group_begin = 0;
    while (group_begin < order.size()) {
        std::size_t group_end = group_begin;
        while (group_end < order.size() && size[order[group_end]] == size[order[group_begin]])
            ++group_end;
        const double group_best = ppl[order[group_begin]];  // sorted: the group's lowest ppl
        if (group_best < best_at_smaller_size) {
            for (std::size_t k = group_begin; k < group_end && ppl[order[k]] == group_best; ++k)
                on_frontier[order[k]] = true;
            best_at_smaller_size = group_best;
        }
        group_begin = group_end;
    }
    return on_frontier;
}

std::vector<std::size_t> frontier_order(const std::vector<double>& size,
                                        const std::vector<double>& ppl)
{
    const auto on_frontier = pareto_frontier(size, ppl);
    std::vector<std::size_t> order;
    for (std::size_t i : finite_points_sorted(size, ppl))
        if (on_frontier[i]) order.push_back(i);
    return order;
}

}  // namespace qs
