// GPTQ for MX formats (seed paper, Algorithm 1): inside a block of B1 columns, micro-blocks of
// B2 consecutive columns are quantized together from the current, error-updated weights, so that
// every MX block (B2 is a multiple of the MX block size) sees one consistent set of values and one
// shared scale:
//   Q[:, j:k] = quant(W[:, j:k]);  E = (W[:, j:k] - Q[:, j:k]) U^-1 with U = Hinv[j:k, j:k]
//   (upper triangular: a triangular solve E U = D, no general inverse);
//   W[:, k:i2] -= E @ Hinv[j:k, k:i2];  the lazy update after the B1 block uses E as Err1.
// Why E: with H^-1 restricted to the columns not yet quantized = U^T U, the optimal update of the
// later columns for a fixed error D on columns j:k is D (U_jj^T U_jj)^-1 U_jj^T U_jk = D U_jj^-1
// U_jk. Losses: we store E^2 / 2 per weight. Their sum over a micro-block is exactly the GPTQ
// objective increase 1/2 D (U_jj^T U_jj)^-1 D^T of quantizing that micro-block (given the earlier
// updates); for B2 = 1 it is the reference's (w - q)^2 / Hinv_jj^2 / 2. Within a micro-block the
// split between columns follows the triangular solve (column order), not a diagonal approximation.
#include <algorithm>

#include "core/quant/gptq_internal.h"
#include "core/quant/mx_quantizer.h"

namespace qs::gptq_detail {

torch::Tensor solve_block_micro(BlockState& state, std::int64_t i1, std::int64_t i2,
                                std::int64_t micro_block, const MicroQuantizer& quantize)
{
    auto w1 = state.w.slice(1, i1, i2).clone();
    auto err1_t = torch::empty({i2 - i1, w1.size(0)}, w1.options());
    for (auto j = i1; j < i2; j += micro_block) {
        const auto k = std::min(j + micro_block, i2);
        auto wj = w1.slice(1, j - i1, k - i1);
        auto qj = quantize(wj);
        auto u = state.hinv.slice(0, j, k).slice(1, j, k);
        auto e = torch::linalg_solve_triangular(u, wj - qj, /*upper=*/true, /*left=*/false);
        const auto out = j - state.out_first;
        state.q_t.slice(0, out, out + (k - j)).copy_(qj.t());
        state.losses_t.slice(0, out, out + (k - j)).copy_(e.square().t() / 2);
        err1_t.slice(0, j - i1, k - i1).copy_(e.t());
        if (k < i2) w1.slice(1, k - i1).sub_(e.matmul(state.hinv.slice(0, j, k).slice(1, k, i2)));
    }
    return err1_t;
}

MicroQuantizer mx_micro_quantizer(const QuantFormat& format)
{
    return [element = format.element, block = format.block_size,
            rounding = format.rounding](const torch::Tensor& x) {
        return mx_quantize_dequantize(x.contiguous(), element, block, rounding);
    };
}

}  // namespace qs::gptq_detail
