// The arithmetic of GPTQ's in-block column loop for INT formats, one weight row at a time: what
// solve_row_group in core/quant/gptq_int_block.cpp does per SIMD lane, as QS_HD functions that
// the CPU row loop (core/kernels/gptq_block.cpp) and the CUDA kernel (gptq_block_cuda.cu) share.
//
// Within a block every row is independent (INT parameters are per row and the error of column i
// only updates the same row's later columns), so a row runs the whole block alone: quantize
// column i with the row's group scale/zero, err = (w - q) / d with d = Hinv[i, i], the loss
// (w - q)^2 / d^2 / 2, then w[t] -= err * Hinv[i, t] for the row's later columns t. Same float
// operations in the same order as the vectorised CPU solver and the reference loop, no
// multiply-add contraction (nvcc --fmad=false; the host compiler in ISO mode does not contract),
// hence bit-identical results on every path.
//
// Plain C++ only (no torch; std:: math only in host branches): nvcc compiles this for the GPU.
#pragma once

#include <cstdint>

#include "core/kernels/host_device.h"
#include "core/kernels/quant_math.h"

namespace qs::kernels {

// One block [i1, i1 + count) of a GPTQ run, as raw float32 pointers (row-major, contiguous).
struct GptqBlockArgs {
    const float* w = nullptr;      // [rows, cols] block-start weights (not written)
    const float* hinv = nullptr;   // [cols, cols] upper Cholesky factor of the damped H^-1
    const float* scale = nullptr;  // [rows, n_groups]
    const float* zero = nullptr;   // [rows, n_groups], integer-valued
    const std::int64_t* group_of = nullptr;  // [cols] group index of each processing column
    // Dequantized weights and per-weight losses (already halved), transposed: row c - out_first
    // holds column c ([cols, rows] with out_first 0, or one block's [count, rows] with i1).
    float* q_t = nullptr;
    float* losses_t = nullptr;
    float* err_t = nullptr;  // [count, rows] scaled errors Err1^T of this block
    std::int64_t rows = 0, cols = 0, n_groups = 0, i1 = 0, count = 0, out_first = 0;
    float maxq = 15.0f;  // 2^bits - 1
};

// quant.py quantize(): scale * (clamp(round(w / scale) + zero, 0, maxq) - zero). NaN propagates
// as through torch.clamp (both comparisons are false).
QS_HD float gptq_int_quantize(float w, float scale, float zero, float maxq)
{
    float code = round_half_even(w / scale) + zero;
    code = code < 0.0f ? 0.0f : (code > maxq ? maxq : code);
    return scale * (code - zero);
}

// Column i of one row with d = Hinv[i, i]: stores q, the loss and err, and returns err.
QS_HD float gptq_solve_column(float w, float scale, float zero, float maxq, float d, float* q_out,
                              float* loss_out, float* err_out)
{
    const float q = gptq_int_quantize(w, scale, zero, maxq);
    const float diff = w - q;
    const float err = diff / d;
    *q_out = q;
    *loss_out = diff * diff / (d * d) / 2.0f;
    *err_out = err;
    return err;
}

// The whole block for row r. wb: `count` floats of scratch (the row's block of W, updated in
// place). hinv_block: Hinv[i1, i1] with leading dimension ld (cols for the full matrix, count for
// a copy of the block). Returns nothing: q_t, losses_t and err_t receive the row's results.
QS_HD void gptq_solve_row(const GptqBlockArgs& a, std::int64_t r, const float* hinv_block,
                          std::int64_t ld, float* wb)
{
    const std::int64_t count = a.count;
    const float* row = a.w + r * a.cols + a.i1;
    for (std::int64_t t = 0; t < count; ++t)
        wb[t] = row[t];
    const float* scale_row = a.scale + r * a.n_groups;
    const float* zero_row = a.zero + r * a.n_groups;
    std::int64_t loaded_group = -1;
    float scale = 1.0f, zero = 0.0f;
    for (std::int64_t i = 0; i < count; ++i) {
        const std::int64_t c = a.i1 + i;
        const std::int64_t g = a.group_of[c];
        if (g != loaded_group) {
            scale = scale_row[g];
            zero = zero_row[g];
            loaded_group = g;
        }
        const float* h = hinv_block + i * ld;
        const float err = gptq_solve_column(
            wb[i], scale, zero, a.maxq, h[i], a.q_t + (c - a.out_first) * a.rows + r,
            a.losses_t + (c - a.out_first) * a.rows + r, a.err_t + i * a.rows + r);
        // The reference's W1[:, i:] -= err1 * Hinv1[i, i:] (column i itself is done with).
        for (std::int64_t t = i + 1; t < count; ++t)
            wb[t] -= err * h[t];
    }
}

}  // namespace qs::kernels
