// The in-block column loop of GPTQ for INT formats: the reference form (one column at a time
// with tensor ops, as fasterquant) and the optimised form used by gptq_quantize.
//
// The optimised form relies on every step inside a block being independent across rows: INT
// parameters are per row, the error of column i only updates the same row's later columns, and
// the group parameters of dynamic groups come from the block-start W (the reference reads
// W[:, c:c+g], which only changes in the lazy update after the block). So groups of kLanes rows
// run the whole block together, vectorised across the rows (one SIMD lane per row, which also
// hides the latency of the column-to-column dependency), groups in parallel. The arithmetic per
// element is the reference's, in the same order and without FMA contraction (the AVX2 clone
// does not enable FMA), so the results are bit-identical to the reference loop.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define QS_GPTQ_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define QS_GPTQ_KERNEL_CLONES
#endif

namespace qs::gptq_detail {
namespace {

// Rows processed together, one per SIMD lane (two AVX2 registers).
constexpr int kLanes = 16;
// Row groups per parallel task.
constexpr std::int64_t kGroupGrain = 2;
// Floats from 2^23 on are integers; below it, adding and subtracting 2^23 rounds to an integer
// in the default round-to-nearest-even mode.
constexpr float kRoundMagic = 8388608.0f;

// torch.round (half to even) in plain arithmetic, so that it vectorises without SSE4.1.
inline float round_half_even(float x)
{
    const float ax = std::fabs(x);
    return ax < kRoundMagic ? std::copysign((ax + kRoundMagic) - kRoundMagic, x) : x;
}

// quant.py quantize(): clamp(round(x / scale) + zero, 0, maxq), then scale * (q - zero).
// NaN propagates as in torch.clamp.
inline float int_quantize_dequantize_scalar(float x, float scale, float zero, float maxq)
{
    float q = round_half_even(x / scale) + zero;
    q = q < 0.0f ? 0.0f : (q > maxq ? maxq : q);
    return scale * (q - zero);
}

struct BlockKernelArgs {
    const float* w;      // [rows, cols] block-start weights
    const float* hinv;   // [cols, cols]
    const float* scale;  // [rows, n_groups]
    const float* zero;
    const std::int64_t* group_of;  // [cols]
    float* q;                      // [rows, cols]
    float* loss;                   // [rows, cols]
    float* err;                    // [rows, count]
    std::int64_t rows, cols, n_groups, i1, count;
    float maxq;
};

// w[l] -= e[l] * h over the lanes: the reference's W1[:, i:] -= err1 * Hinv1[i, i:], one column.
inline void subtract_scaled(float* __restrict w, const float* __restrict e, float h)
{
    for (int l = 0; l < kLanes; ++l)
        w[l] -= e[l] * h;
}

// Rows r0 .. r0 + lanes - 1 (lanes <= kLanes) through columns i1 .. i1 + count - 1. `work`
// holds 4 * count * kLanes floats: per column, the kLanes rows side by side.
QS_GPTQ_KERNEL_CLONES
void solve_row_group(const BlockKernelArgs& a, std::int64_t r0, int lanes, float* work)
{
    const auto count = a.count;
    float* __restrict wb = work;  // running weights
    float* __restrict qb = wb + count * kLanes;
    float* __restrict lb = qb + count * kLanes;
    float* __restrict eb = lb + count * kLanes;
    std::fill_n(wb, count * kLanes, 0.0f);
    for (int l = 0; l < lanes; ++l) {
        const float* row = a.w + (r0 + l) * a.cols + a.i1;
        for (std::int64_t t = 0; t < count; ++t)
            wb[t * kLanes + l] = row[t];
    }

    float scale[kLanes], zero[kLanes], err[kLanes];
    // Padding lanes quantize 0 with scale 1: finite and never stored.
    std::fill_n(scale, kLanes, 1.0f);
    std::fill_n(zero, kLanes, 0.0f);
    for (std::int64_t i = 0; i < count; ++i) {
        const auto c = a.i1 + i;
        const auto g = a.group_of[c];
        for (int l = 0; l < lanes; ++l) {
            scale[l] = a.scale[(r0 + l) * a.n_groups + g];
            zero[l] = a.zero[(r0 + l) * a.n_groups + g];
        }
        const float d = a.hinv[c * a.cols + c];
        const float d2 = d * d;
        const float* wi = wb + i * kLanes;
        for (int l = 0; l < kLanes; ++l) {
            const float q = int_quantize_dequantize_scalar(wi[l], scale[l], zero[l], a.maxq);
            const float diff = wi[l] - q;
            qb[i * kLanes + l] = q;
            lb[i * kLanes + l] = diff * diff / d2 / 2.0f;
            err[l] = diff / d;
            eb[i * kLanes + l] = err[l];
        }
        const float* h = a.hinv + c * a.cols + a.i1;
        for (auto t = i + 1; t < count; ++t)
            subtract_scaled(wb + t * kLanes, err, h[t]);
    }
    for (int l = 0; l < lanes; ++l) {
        const auto r = r0 + l;
        float* q_row = a.q + r * a.cols + a.i1;
        float* loss_row = a.loss + r * a.cols + a.i1;
        float* err_row = a.err + r * count;
        for (std::int64_t t = 0; t < count; ++t) {
            q_row[t] = qb[t * kLanes + l];
            loss_row[t] = lb[t * kLanes + l];
            err_row[t] = eb[t * kLanes + l];
        }
    }
}

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
    auto err1 = torch::empty({rows, i2 - i1}, state.w.options());
    auto scales = groups.scales.contiguous();
    auto zeros = groups.zeros.contiguous();
    BlockKernelArgs args{state.w.data_ptr<float>(),
                         state.hinv.data_ptr<float>(),
                         scales.data_ptr<float>(),
                         zeros.data_ptr<float>(),
                         groups.group_of.data(),
                         state.q.data_ptr<float>(),
                         state.losses.data_ptr<float>(),
                         err1.data_ptr<float>(),
                         rows,
                         state.w.size(1),
                         scales.size(1),
                         i1,
                         i2 - i1,
                         static_cast<float>((1 << groups.bits) - 1)};
    const auto n_row_groups = (rows + kLanes - 1) / kLanes;
    at::parallel_for(0, n_row_groups, kGroupGrain, [&](std::int64_t g0, std::int64_t g1) {
        std::vector<float> work(static_cast<std::size_t>(4 * args.count * kLanes));
        for (auto g = g0; g < g1; ++g) {
            const auto r0 = g * kLanes;
            solve_row_group(args, r0, static_cast<int>(std::min<std::int64_t>(kLanes, rows - r0)),
                            work.data());
        }
    });
    return err1;
}

}  // namespace qs::gptq_detail
