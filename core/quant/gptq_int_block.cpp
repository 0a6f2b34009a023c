// The in-block column loop of GPTQ for INT formats: the reference form (one column at a time
// with tensor ops, as fasterquant) and the optimised form used by gptq_quantize.
//
// The optimised form relies on every step inside a block being independent across rows: INT
// parameters are per row, the error of column i only updates the same row's later columns, and
// the group parameters of dynamic groups come from the block-start W (the reference reads
// W[:, c:c+g], which only changes in the lazy update after the block). So each row runs the whole
// block on its own contiguous copy of W[r, i1:i2] (in L1), rows in parallel. The arithmetic per
// element is the reference's, in the same order, so the results are bit-identical (x86-64 without
// FMA contraction; with FMA contraction they would differ in the last bit).
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"

namespace qs::gptq_detail {
namespace {

// quant.py quantize(): clamp(round(x / scale) + zero, 0, maxq), then scale * (q - zero);
// std::nearbyint rounds half to even as torch.round. NaN propagates as in torch.clamp.
inline float int_quantize_dequantize_scalar(float x, float scale, float zero, float maxq)
{
    float q = std::nearbyint(x / scale) + zero;
    q = q < 0.0f ? 0.0f : (q > maxq ? maxq : q);
    return scale * (q - zero);
}

// Rows per parallel task: enough work per task to amortise scheduling.
constexpr std::int64_t kRowGrain = 16;

}  // namespace

void IntGroups::refresh(const torch::Tensor& w, std::int64_t c)
{
    const auto end = std::min(w.size(1), c + dynamic_group_size);
    auto params = int_find_params(w.slice(1, c, end), bits, symmetric, mse);
    const auto g = group_of[static_cast<std::size_t>(c)];
    scales.select(1, g).copy_(params.scale.squeeze(1));
    zeros.select(1, g).copy_(params.zero.squeeze(1));
}

torch::Tensor IntGroups::scale_of(std::int64_t c) const
{
    const auto g = group_of[static_cast<std::size_t>(c)];
    return scales.slice(1, g, g + 1);
}

torch::Tensor IntGroups::zero_of(std::int64_t c) const
{
    const auto g = group_of[static_cast<std::size_t>(c)];
    return zeros.slice(1, g, g + 1);
}

torch::Tensor solve_block_int_reference(BlockState& state, std::int64_t i1, std::int64_t i2)
{
    IntGroups& groups = *state.groups;
    const auto count = i2 - i1;
    auto w1 = state.w.slice(1, i1, i2).clone();
    auto q1 = torch::zeros_like(w1);
    auto err1 = torch::zeros_like(w1);
    auto losses1 = torch::zeros_like(w1);
    auto hinv1 = state.hinv.slice(0, i1, i2).slice(1, i1, i2);

    for (std::int64_t i = 0; i < count; ++i) {
        const auto c = i1 + i;
        auto w = w1.select(1, i);
        auto d = hinv1.index({i, i});
        if (groups.starts_group(c)) groups.refresh(state.w, c);
        IntQuantParams params;
        params.bits = groups.bits;
        params.scale = groups.scale_of(c);
        params.zero = groups.zero_of(c);
        auto q = int_quantize_dequantize(w.unsqueeze(1), params).flatten();
        q1.select(1, i).copy_(q);
        losses1.select(1, i).copy_((w - q).pow(2) / d.pow(2));
        auto err = (w - q) / d;
        w1.slice(1, i).sub_(err.unsqueeze(1).matmul(hinv1.select(0, i).slice(0, i).unsqueeze(0)));
        err1.select(1, i).copy_(err);
    }
    state.q.slice(1, i1, i2).copy_(q1);
    state.losses.slice(1, i1, i2).copy_(losses1 / 2);
    return err1;
}

torch::Tensor solve_block_int_fast(BlockState& state, std::int64_t i1, std::int64_t i2)
{
    IntGroups& groups = *state.groups;
    // All parameter refreshes of this block read the block-start W, so they can run up front.
    for (auto c = i1; c < i2; ++c)
        if (groups.starts_group(c)) groups.refresh(state.w, c);

    const auto rows = state.w.size(0);
    const auto cols = state.w.size(1);
    const auto count = i2 - i1;
    auto err1 = torch::empty({rows, count}, state.w.options());

    const float* w_all = state.w.data_ptr<float>();
    const float* hinv = state.hinv.data_ptr<float>();
    float* q_all = state.q.data_ptr<float>();
    float* loss_all = state.losses.data_ptr<float>();
    float* err_all = err1.data_ptr<float>();
    auto scales = groups.scales.contiguous();
    auto zeros = groups.zeros.contiguous();
    const float* scale_all = scales.data_ptr<float>();
    const float* zero_all = zeros.data_ptr<float>();
    const auto n_groups = scales.size(1);
    const std::int64_t* group_of = groups.group_of.data();
    const auto maxq = static_cast<float>((1 << groups.bits) - 1);

    at::parallel_for(0, rows, kRowGrain, [&](std::int64_t r0, std::int64_t r1) {
        std::vector<float> w1(static_cast<std::size_t>(count));
        for (auto r = r0; r < r1; ++r) {
            std::copy_n(w_all + r * cols + i1, count, w1.data());
            const float* scale_row = scale_all + r * n_groups;
            const float* zero_row = zero_all + r * n_groups;
            float* q_row = q_all + r * cols;
            float* loss_row = loss_all + r * cols;
            float* err_row = err_all + r * count;
            for (std::int64_t i = 0; i < count; ++i) {
                const auto c = i1 + i;
                const auto g = group_of[c];
                const float w = w1[static_cast<std::size_t>(i)];
                const float q = int_quantize_dequantize_scalar(w, scale_row[g], zero_row[g], maxq);
                const float d = hinv[c * cols + c];
                const float diff = w - q;
                loss_row[c] = diff * diff / (d * d) / 2.0f;
                const float err = diff / d;
                const float* h = hinv + c * cols + i1;
                for (auto t = i + 1; t < count; ++t)
                    w1[static_cast<std::size_t>(t)] -= err * h[t];
                q_row[c] = q;
                err_row[i] = err;
            }
        }
    });
    return err1;
}

}  // namespace qs::gptq_detail
