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
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/kernels/gptq_block.h"
#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define QS_GPTQ_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define QS_GPTQ_KERNEL_CLONES
#endif

namespace qs::gptq_detail {
namespace {

// Rows processed together, one per SIMD lane: kVectors GCC/Clang vectors of kWidth floats
// (one AVX2 register each; two SSE2 ones on the default target). Two independent vectors per
// column hide the latency of the quantize-then-update chain.
constexpr int kWidth = 8;
constexpr int kVectors = 2;
constexpr int kLanes = kWidth * kVectors;
using Vec = float __attribute__((vector_size(kWidth * sizeof(float))));
using Bits = std::int32_t __attribute__((vector_size(kWidth * sizeof(float))));
// Row groups per parallel task.
constexpr std::int64_t kGroupGrain = 2;
// Floats from 2^23 on are integers; below it, adding and subtracting 2^23 rounds to an integer
// in the default round-to-nearest-even mode.
constexpr float kRoundMagic = 8388608.0f;
constexpr std::int32_t kSignBit = std::int32_t(0x80000000u);

struct BlockKernelArgs {
    const float* w;      // [rows, cols] block-start weights
    const float* hinv;   // [cols, cols]
    const float* scale;  // [rows, n_groups]
    const float* zero;
    const std::int64_t* group_of;  // [cols]
    float* q_t;                    // [cols, rows]
    float* losses_t;               // [cols, rows]
    float* err_t;                  // [count, rows]
    std::int64_t rows, cols, n_groups, i1, count;
    float maxq;
    std::int64_t out_first;  // q_t / losses_t row of column c: c - out_first
};

// Rows r0 .. r0 + lanes - 1 (lanes <= kLanes) through columns i1 .. i1 + count - 1, with W1 in
// `wb`: count * kVectors vectors, per column the rows side by side.
QS_GPTQ_KERNEL_CLONES
void solve_row_group(const BlockKernelArgs& a, std::int64_t r0, int lanes, Vec* wb)
{
    const auto count = a.count;
    // GCC and Clang let a vector alias its element type.
    auto* wb_floats = reinterpret_cast<float*>(wb);
    std::fill_n(wb_floats, count * kLanes, 0.0f);
    for (int l = 0; l < lanes; ++l) {
        const float* row = a.w + (r0 + l) * a.cols + a.i1;
        for (std::int64_t t = 0; t < count; ++t)
            wb_floats[t * kLanes + l] = row[t];
    }

    // Padding lanes quantize 0 with scale 1: finite and never stored.
    Vec scale[kVectors], zero[kVectors], err[kVectors];
    for (int v = 0; v < kVectors; ++v) {
        scale[v] = Vec{} + 1.0f;
        zero[v] = Vec{};
    }
    const Vec zeros = {};
    const Vec top = zeros + a.maxq;
    std::int64_t loaded_group = -1;
    for (std::int64_t i = 0; i < count; ++i) {
        const auto c = a.i1 + i;
        const auto g = a.group_of[c];
        if (g != loaded_group) {
            for (int l = 0; l < lanes; ++l) {
                scale[l / kWidth][l % kWidth] = a.scale[(r0 + l) * a.n_groups + g];
                zero[l / kWidth][l % kWidth] = a.zero[(r0 + l) * a.n_groups + g];
            }
            loaded_group = g;
        }
        const float d = a.hinv[c * a.cols + c];
        const auto out = c - a.out_first;
        for (int v = 0; v < kVectors; ++v) {
            const Vec w = wb[i * kVectors + v];
            // quant.py quantize(): clamp(round(w / scale) + zero, 0, maxq), scale * (q - zero).
            // round: torch.round (half to even) in plain arithmetic, keeping the sign as
            // nearbyint does (-0.4 -> -0.0); NaN propagates as in torch.clamp.
            const Vec x = w / scale[v];
            const Bits x_bits = __builtin_bit_cast(Bits, x);
            const Vec ax = __builtin_bit_cast(Vec, x_bits & ~kSignBit);
            const Vec rounded_abs = (ax + kRoundMagic) - kRoundMagic;
            const Vec rounded = __builtin_bit_cast(
                Vec, __builtin_bit_cast(Bits, rounded_abs) | (x_bits & kSignBit));
            Vec code = (ax < kRoundMagic ? rounded : x) + zero[v];
            code = code < zeros ? zeros : (code > top ? top : code);
            const Vec q = scale[v] * (code - zero[v]);
            const Vec diff = w - q;
            err[v] = diff / d;
            const Vec loss = diff * diff / (d * d) / 2.0f;
            const auto row0 = r0 + v * kWidth;
            const int n = std::clamp(lanes - v * kWidth, 0, kWidth);
            if (n == kWidth) {
                std::memcpy(a.q_t + out * a.rows + row0, &q, sizeof(Vec));
                std::memcpy(a.losses_t + out * a.rows + row0, &loss, sizeof(Vec));
                std::memcpy(a.err_t + i * a.rows + row0, &err[v], sizeof(Vec));
            } else {
                for (int l = 0; l < n; ++l) {
                    a.q_t[out * a.rows + row0 + l] = q[l];
                    a.losses_t[out * a.rows + row0 + l] = loss[l];
                    a.err_t[i * a.rows + row0 + l] = err[v][l];
                }
            }
        }
        // The reference's W1[:, i:] -= err1 * Hinv1[i, i:] (column i itself is done with).
        const float* h = a.hinv + c * a.cols + a.i1;
        for (auto t = i + 1; t < count; ++t)
            for (int v = 0; v < kVectors; ++v)
                wb[t * kVectors + v] -= err[v] * h[t];
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
    const auto out = i1 - state.out_first;
    state.q_t.slice(0, out, out + count).copy_(q1.t());
    state.losses_t.slice(0, out, out + count).copy_((losses1 / 2).t());
    return err1.t().contiguous();
}

torch::Tensor solve_block_int_fast(BlockState& state, std::int64_t i1, std::int64_t i2)
{
#ifdef QS_CUDA
    if (state.w.is_cuda()) return solve_block_int_cuda(state, i1, i2);
#endif
    IntGroups& groups = *state.groups;
    // All parameter refreshes of this block read the block-start W, so they can run up front.
    for (auto c = i1; c < i2; ++c)
        if (groups.starts_group(c)) groups.refresh(state.w, c);

    const auto rows = state.w.size(0);
    if (!state.err_t.defined() || state.err_t.size(0) < i2 - i1)
        state.err_t = torch::empty({i2 - i1, rows}, state.w.options());
    auto err1_t = state.err_t.slice(0, 0, i2 - i1);
    auto scales = groups.scales.contiguous();
    auto zeros = groups.zeros.contiguous();
    BlockKernelArgs args{state.w.data_ptr<float>(),
                         state.hinv.data_ptr<float>(),
                         scales.data_ptr<float>(),
                         zeros.data_ptr<float>(),
                         groups.group_of.data(),
                         state.q_t.data_ptr<float>(),
                         state.losses_t.data_ptr<float>(),
                         err1_t.data_ptr<float>(),
                         rows,
                         state.w.size(1),
                         scales.size(1),
                         i1,
                         i2 - i1,
                         static_cast<float>((1 << groups.bits) - 1),
                         state.out_first};
    const auto n_row_groups = (rows + kLanes - 1) / kLanes;
    parallel_chunks(n_row_groups, kGroupGrain, [&](std::int64_t g0, std::int64_t g1) {
        // Scratch aligned to a whole vector: the AVX2 clone uses aligned 32-byte moves, while
        // alignof(Vec) in this translation unit (compiled for SSE2) is only 16.
        std::vector<float> work(static_cast<std::size_t>(args.count * kLanes + kWidth));
        void* start = work.data();
        std::size_t space = work.size() * sizeof(float);
        auto* wb = static_cast<Vec*>(std::align(sizeof(Vec), sizeof(Vec), start, space));
        for (auto g = g0; g < g1; ++g) {
            const auto r0 = g * kLanes;
            solve_row_group(args, r0, static_cast<int>(std::min<std::int64_t>(kLanes, rows - r0)),
                            wb);
        }
    });
    return err1_t;
}

}  // namespace qs::gptq_detail
