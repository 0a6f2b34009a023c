// Fused one-pass quantize-dequantize of weights and activations: per row / group / MX block the
// parameters come from one reduction over the values and every element is quantized and
// dequantized in the same pass, instead of the dozen tensor-sized temporaries of the vectorised
// torch code in core/quant. The arithmetic is the QS_HD functions of quant_math.h, so results are
// bit for bit those of the torch implementations (tests/core/test_fused_quant.cpp), on the CPU
// (loops over rows / blocks in parallel) and, in a QS_CUDA build, on CUDA tensors (kernels in
// fused_quant_cuda.cu; tests/gpu/test_fused_quant_cuda.cpp). A build without QS_CUDA, or any
// other device, runs the torch implementation for non-CPU tensors.
// Inputs of any floating dtype are computed in float32; result dtypes follow the functions they
// replace (noted per function).
#pragma once

#include <torch/types.h>

#include "core/quant/quant_format.h"

namespace qs::kernels {

// mx_quantize_dequantize: blocks of block_size along the last axis (a shorter last block).
// float32 result for float32 or integer input, else x's dtype.
torch::Tensor mx_quantize_dequantize_fused(const torch::Tensor& x, MxElement element,
                                           int block_size, Rounding rounding = Rounding::Nearest);

// int_fake_quantize_groups without the MSE search: W [rows, cols], GPTQ-reference parameters
// per row and group of group_size columns (<= 0 or >= cols: per row); fp16_scales: scales
// rounded to fp16 as under an Fp16ScaleScope. float32 result.
torch::Tensor int_fake_quantize_groups_fused(const torch::Tensor& w, int bits, bool symmetric,
                                             int group_size, bool fp16_scales = false);

// Dynamic INT activation quantization (fake_quantize.h: AWQ/SmoothQuant pseudo-quantizer):
// x [..., n] viewed as rows [-1, n], parameters per row, or per row and group of group_size
// features (group_size <= 0: the whole row). float32 result, x's shape.
torch::Tensor int_activation_fake_quantize_fused(const torch::Tensor& x, int bits, bool symmetric,
                                                 int group_size = 0, bool fp16_scales = false);

// fp8_fake_quantize: absmax scale per tensor or per row of x viewed as [-1, n]. x's dtype.
torch::Tensor fp8_fake_quantize_fused(const torch::Tensor& x, Fp8Variant variant, bool per_row);

}  // namespace qs::kernels
