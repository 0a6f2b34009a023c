// CUDA launchers of the fused quantize-dequantize kernels (fused_quant_cuda.cu, compiled only
// when QS_CUDA is on). No torch here: contiguous float32 device pointers, sizes and the stream
// (a cudaStream_t passed as void*). The torch glue is fused_quant.cpp. Every launcher returns
// nullptr on success, else the CUDA error message.
#pragma once

#include <cstdint>

#include "core/kernels/quant_math.h"

namespace qs::kernels::cuda {

// x, out [rows, n]: MX blocks of block_size along each row (a shorter last block).
const char* mx_quantize_dequantize(const float* x, float* out, std::int64_t rows, std::int64_t n,
                                   int block_size, MxFormat format, bool even, void* stream);

// x, out [rows, cols]: INT parameters per row and group of `group` columns (1 <= group <= cols;
// a shorter last group). awq_style = false: gptq_int_params (weights); true: awq_int_params
// (activations; symmetric means signed codes).
const char* int_groups_quantize_dequantize(const float* x, float* out, std::int64_t rows,
                                           std::int64_t cols, std::int64_t group, int bits,
                                           bool symmetric, bool awq_style, bool fp16_scales,
                                           void* stream);

// x, out [rows, n]: FP8 absmax scale per row, or per tensor (per_row false) with `scratch` one
// device word for the tensor's absmax.
const char* fp8_quantize_dequantize(const float* x, float* out, std::int64_t rows, std::int64_t n,
                                    Fp8Format format, bool per_row, std::uint32_t* scratch,
                                    void* stream);

}  // namespace qs::kernels::cuda
