// Random INT GPTQ problems for the block-solver tests: the scalar row loop against the reference
// and vectorised solvers (tests/core/test_gptq_block_kernel.cpp) and the CUDA kernel against the
// row loop (tests/gpu/test_gptq_block_cuda.cpp). W ~ N(0, 0.02^2), H = 2/n X^T X from random
// activations with outlier channels; for one block, Hinv its damped inverse factor and groups of
// every kind GPTQ uses (per-channel, dynamic, static in a shuffled act-order); for whole runs, W,
// H and the INT GptqOptions.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/quant/gptq.h"
#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"

namespace qs_test {

struct GptqBlockCase {
    std::int64_t rows = 37, cols = 200;
    int bits = 4;
    bool symmetric = false;
    int group = 32;                // 0: per channel
    bool static_shuffled = false;  // static groups, processing order a random permutation
    std::uint64_t seed = 1;

    std::string name() const
    {
        return std::to_string(rows) + "x" + std::to_string(cols) + " int" + std::to_string(bits) +
               (symmetric ? " sym" : " asym") +
               (group > 0 ? " g" + std::to_string(group) : std::string(" per-channel")) +
               (static_shuffled ? " static act-order" : "");
    }
};

// H = 2/n X^T X of X [samples, cols] ~ N(0, 1) drawn from the current generator, with the
// columns of `outliers` (channel, factor) scaled up, as LLM activations have.
struct OutlierChannel {
    std::int64_t channel;
    double factor;
};
inline torch::Tensor random_hessian(std::int64_t cols, std::int64_t samples,
                                    std::initializer_list<OutlierChannel> outliers)
{
    auto x = torch::randn({samples, cols});
    for (const auto& o : outliers)
        x.select(1, o.channel).mul_(o.factor);
    return x.t().matmul(x) * (2.0 / double(samples));
}

// A whole GPTQ run's inputs: W [rows, cols] ~ N(0, 0.02^2) and H from `samples` activations
// with one outlier channel.
struct GptqRunProblem {
    torch::Tensor w, h;
};
inline GptqRunProblem make_gptq_run_problem(std::uint64_t seed, std::int64_t rows,
                                            std::int64_t cols, std::int64_t samples,
                                            OutlierChannel outlier)
{
    torch::manual_seed(seed);
    GptqRunProblem p;
    p.w = torch::randn({rows, cols}) * 0.02;
    p.h = random_hessian(cols, samples, {outlier});
    return p;
}

// INT GPTQ options: `bits`, asymmetric, groups of `group` columns (0: per channel).
inline qs::GptqOptions int_gptq_options(int bits, int group, bool act_order)
{
    qs::GptqOptions o;
    o.format.kind = qs::FormatKind::Int;
    o.format.bits = bits;
    o.format.granularity = group > 0 ? qs::Granularity::Group : qs::Granularity::Channel;
    o.format.group_size = group;
    o.act_order = act_order;
    return o;
}

// The inputs of a block-solver run, on the CPU; every solver runs on its own copy.
struct GptqBlockProblem {
    torch::Tensor w, hinv;
    qs::gptq_detail::IntGroups groups;
};

inline GptqBlockProblem make_gptq_block_problem(const GptqBlockCase& c)
{
    torch::manual_seed(c.seed);
    GptqBlockProblem p;
    p.w = torch::randn({c.rows, c.cols}) * 0.02;
    const auto h = random_hessian(c.cols, 2 * c.cols, {{3 % c.cols, 20.0}, {c.cols / 2, 8.0}});
    p.hinv = qs::gptq_detail::damped_inverse_factor(h, h.diagonal() == 0, {}, 0.01, 0,
                                                    qs::gptq_detail::FactorMethod::Reference)
                 .hinv;

    auto& g = p.groups;
    g.bits = c.bits;
    g.symmetric = c.symmetric;
    g.group_of.assign(static_cast<std::size_t>(c.cols), 0);
    if (c.group <= 0) {
        auto params = qs::int_find_params(p.w, c.bits, c.symmetric);
        g.scales = params.scale.contiguous();
        g.zeros = params.zero.contiguous();
        return p;
    }
    const auto n_groups = (c.cols + c.group - 1) / c.group;
    g.scales = torch::zeros({c.rows, n_groups});
    g.zeros = torch::zeros({c.rows, n_groups});
    if (!c.static_shuffled) {
        for (std::int64_t col = 0; col < c.cols; ++col)
            g.group_of[static_cast<std::size_t>(col)] = col / c.group;
        g.dynamic_group_size = c.group;
        return p;
    }
    // Processing column col is original column perm[col]: its group changes almost every column.
    auto perm = torch::randperm(c.cols, torch::kInt64);
    for (std::int64_t col = 0; col < c.cols; ++col)
        g.group_of[static_cast<std::size_t>(col)] = perm[col].item<std::int64_t>() / c.group;
    for (std::int64_t k = 0; k < n_groups; ++k) {
        std::vector<std::int64_t> members;
        for (std::int64_t col = 0; col < c.cols; ++col)
            if (g.group_of[static_cast<std::size_t>(col)] == k) members.push_back(col);
        auto params =
            qs::int_find_params(p.w.index_select(1, torch::tensor(members)), c.bits, c.symmetric);
        g.scales.select(1, k).copy_(params.scale.squeeze(1));
        g.zeros.select(1, k).copy_(params.zero.squeeze(1));
    }
    return p;
}

// A BlockState over copies of the problem's tensors on `device` (the groups live beside it).
struct OwnedBlockState {
    qs::gptq_detail::IntGroups groups;
    qs::gptq_detail::BlockState state;
};

inline std::unique_ptr<OwnedBlockState> make_block_state(const GptqBlockProblem& p,
                                                         torch::Device device)
{
    auto owned = std::make_unique<OwnedBlockState>();
    owned->groups = p.groups;
    owned->groups.scales = p.groups.scales.to(device, false, /*copy=*/true);
    owned->groups.zeros = p.groups.zeros.to(device, false, /*copy=*/true);
    auto& s = owned->state;
    s.w = p.w.to(device, false, /*copy=*/true).contiguous();
    s.hinv = p.hinv.to(device).contiguous();
    s.q_t = torch::full({p.w.size(1), p.w.size(0)}, -1.0f, s.w.options());
    s.losses_t = torch::full_like(s.q_t, -1.0f);
    s.groups = &owned->groups;
    return owned;
}

using BlockSolverFn =
    std::function<torch::Tensor(qs::gptq_detail::BlockState&, std::int64_t, std::int64_t)>;

// The lazy update after block [i1, i2): W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:], on the CPU in a
// fixed summation order. (A BLAS matmul picks its kernel, hence its order, by the operands'
// strides: solvers whose Err1^T have different strides would drift apart here, not in the block.)
inline void lazy_update(qs::gptq_detail::BlockState& s, std::int64_t i1, std::int64_t i2,
                        const torch::Tensor& err1_t)
{
    const auto rows = s.w.size(0), cols = s.w.size(1), count = i2 - i1;
    if (i2 >= cols) return;
    if (!s.w.is_cpu() || !s.w.is_contiguous()) throw std::runtime_error("lazy_update: CPU W only");
    const auto e = err1_t.to(torch::kCPU).contiguous();
    const auto h = s.hinv.to(torch::kCPU).contiguous();
    const float* ep = e.data_ptr<float>();
    const float* hp = h.data_ptr<float>();
    float* wp = s.w.data_ptr<float>();
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t j = i2; j < cols; ++j) {
            float sum = 0.0f;
            for (std::int64_t k = 0; k < count; ++k)
                sum += ep[k * rows + r] * hp[(i1 + k) * cols + j];
            wp[r * cols + j] -= sum;
        }
}

// Every block of the state through `solve`, with the lazy update between blocks; the blocks'
// Err1^T (copies: the solvers may return reused scratch).
inline std::vector<torch::Tensor> run_gptq_blocks(qs::gptq_detail::BlockState& s,
                                                  std::int64_t blocksize,
                                                  const BlockSolverFn& solve)
{
    std::vector<torch::Tensor> errors;
    const auto cols = s.w.size(1);
    for (std::int64_t i1 = 0; i1 < cols; i1 += blocksize) {
        const auto i2 = std::min(cols, i1 + blocksize);
        errors.push_back(solve(s, i1, i2).clone());
        lazy_update(s, i1, i2, errors.back());
    }
    return errors;
}

// Both float32 tensors hold the same bits (so -0.0 != +0.0 and NaN == NaN of the same payload);
// empty string when they do, else a description of the first difference.
inline std::string bit_difference(const torch::Tensor& a, const torch::Tensor& b)
{
    auto x = a.detach().to(torch::kCPU).contiguous();
    auto y = b.detach().to(torch::kCPU).contiguous();
    if (x.sizes() != y.sizes()) return "shapes differ";
    const auto n = x.numel();
    const float* px = x.data_ptr<float>();
    const float* py = y.data_ptr<float>();
    std::int64_t differing = 0, first = -1;
    for (std::int64_t i = 0; i < n; ++i)
        if (std::memcmp(px + i, py + i, sizeof(float)) != 0) {
            if (first < 0) first = i;
            ++differing;
        }
    if (differing == 0) return {};
    char values[64];
    std::snprintf(values, sizeof values, "%.9g vs %.9g", double(px[first]), double(py[first]));
    return std::to_string(differing) + " of " + std::to_string(n) + " elements differ, first at " +
           std::to_string(first) + ": " + values;
}

}  // namespace qs_test
