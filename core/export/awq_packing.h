// The AutoAWQ GEMM checkpoint layout of one linear, as WQLinear_GEMM.from_linear
// (awq/modules/linear/gemm.py) writes it and vLLM's awq kernels and AutoAWQ's
// dequantize_gemm (awq/utils/packing_utils.py) read it:
//   qweight int32 [in, out / 8]: for input row i, word j holds the codes of outputs 8j..8j+7,
//           nibble k (bits 4k..4k+3) carrying output 8j + kAwqOrder[k] (interleave
//           0,2,4,6,1,3,5,7);
//   qzeros  int32 [groups, out / 8]: zero points, same interleave, stored WITHOUT an offset;
//   scales  fp16  [groups, out].
// 4 bits only; groups are contiguous runs of group_size input columns (no act-order g_idx), and
// in must be a multiple of group_size (AutoAWQ sizes qzeros as in // group_size).
// AWQ's symmetric mode (signed codes, zero 0) maps to codes + 8 with zero 8 before packing.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/export/int_quantized_linear.h"

namespace qs {

// kAwqOrder[k]: which of the 8 outputs of a word sits in nibble k (AutoAWQ's AWQ_ORDER).
inline constexpr std::array<int, 8> kAwqOrder = {0, 2, 4, 6, 1, 3, 5, 7};

struct AwqPacked {
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    std::int64_t group_size = 0;
    std::int64_t groups = 0;
    std::vector<std::int32_t> qweight;  // [in, out / 8]
    std::vector<std::int32_t> qzeros;   // [groups, out / 8]
    std::vector<std::uint16_t> scales;  // [groups, out] fp16 bit patterns

    std::vector<std::int64_t> qweight_shape() const;
    std::vector<std::int64_t> qzeros_shape() const;
    std::vector<std::int64_t> scales_shape() const;
};

// Throws QsError for bits other than 4, out not a multiple of 8, in not a multiple of
// group_size, act-order (non-contiguous g_idx), codes or zeros out of range, bad sizes.
AwqPacked awq_pack(const IntQuantizedLinear& linear);
// Inverse of awq_pack (g_idx empty: contiguous groups).
IntQuantizedLinear awq_unpack(const AwqPacked& packed);
// Weight [out, in]: scale * (q - zero) in float32, as AutoAWQ's dequantize_gemm.
std::vector<float> awq_dequantize(const AwqPacked& packed);

}  // namespace qs
