// MX (OCP Microscaling v1.0) fake quantization with the semantics of microsoft/microxcaling
// `_quantize_mx` (float32, scale_bits = 8, shared_exp_method = "max"), along the last axis:
//   shared_exp = floor(log2(max |v| of the block)) - emax_elem, clamped below at -127
//   (log2 rounded to float32 before the floor, as the reference's float32 torch.log2: a block
//   max just below 2^k can get exponent k; the same holds for FP elements' private exponents)
//   (above +127 the block becomes NaN, as E8M0 0xFF); elements are divided by 2^shared_exp,
//   quantized to the element format (saturating at its max normal, with subnormals) and
//   multiplied back. MXINT elements: sign-magnitude fixed point with d-2 fraction bits.
// Rounding: Nearest = half away from zero (reference default), Even = half to even.
// The last partial block (cols not a multiple of block) is its own, shorter block.
#pragma once

#include <torch/types.h>

#include "core/quant/quant_format.h"

namespace qs {

// microxcaling `_get_format_params` of an element format. mbits counts the sign and the
// implicit bit (INTd: d; E4M3: 5); min_exp is the lowest private exponent of FP elements
// (2 - 2^(ebits-1)), unused for INT (ebits 0).
struct MxElementParams {
    int ebits = 0;
    int mbits = 0;
    int emax = 0;
    float max_norm = 0;
    int min_exp = 0;
};
MxElementParams mx_element_params(MxElement element);

// emax of the element format (INT 0, E4M3 8, E5M2 15, E3M2 4, E2M3 2, E2M1 2).
int mx_element_emax(MxElement element);
// Largest normal magnitude (INT8 127/64, INT4 7/4, E4M3 448, E5M2 57344, E3M2 28, E2M3 7.5, E2M1
// 6).
double mx_element_max(MxElement element);

// x [..., n] float32 -> same shape, fake-quantized block by block along the last axis.
// Other floating dtypes are computed in float32 and cast back. CPU (and CUDA in a QS_CUDA build):
// the fused one-pass loop (core/kernels/fused_quant.h); other devices: the tensor ops below.
torch::Tensor mx_quantize_dequantize(const torch::Tensor& x, MxElement element, int block_size,
                                     Rounding rounding = Rounding::Nearest);
// The same with vectorised tensor ops on any device; the fused path must agree bit for bit.
torch::Tensor mx_quantize_dequantize_tensor_ops(const torch::Tensor& x, MxElement element,
                                                int block_size,
                                                Rounding rounding = Rounding::Nearest);

// Scalar reference of mx_quantize_dequantize (one float at a time on the CPU, the reference's
// float32 operations in its order); tests require both to agree bit for bit.
torch::Tensor mx_quantize_dequantize_reference(const torch::Tensor& x, MxElement element,
                                               int block_size,
                                               Rounding rounding = Rounding::Nearest);

// The parts of an MX encoding, for exporters and statistics: per-block shared exponents
// (int32, E8M0 value - 127; 128 for a NaN block) [..., ceil(n/block)] and element values already
// divided by the block scale (x / 2^shared_exp, quantized) [..., n].
struct MxEncoding {
    torch::Tensor shared_exponent;
    torch::Tensor elements;
};
MxEncoding mx_encode(const torch::Tensor& x, MxElement element, int block_size,
                     Rounding rounding = Rounding::Nearest);

}  // namespace qs
