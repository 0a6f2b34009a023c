// ggml block codecs on plain float vectors (no torch): F32, F16, Q8_0, Q4_0 and MXFP4 both
// ways, and dequantize-only for the K-quants Q2_K..Q6_K so QuantScope can open llama.cpp's own
// checkpoints. Quantization reproduces ggml's reference quantize_row_*_ref bit for bit (same
// scale formula, same rounding, same tie-breaking); dequantization follows dequantize_row_*.
// Conventions: x is a flat row-major float array, n a multiple of the type's block size
// (gguf_format.h); blocks are laid out back to back exactly as in the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/export/gguf_format.h"

namespace qs::gguf {

// IEEE binary16 <-> binary32, round to nearest even (what ggml's GGML_FP32_TO_FP16 does with
// F16C and in its portable fallback); NaN becomes a quiet NaN, overflow infinity.
std::uint16_t fp32_to_fp16(float x);
float fp16_to_fp32(std::uint16_t h);

// MXFP4 block scale as ggml stores it: E8M0 byte e means 2^(e-127); ggml keeps its E2M1 table
// doubled ({0,1,2,3,4,6,8,12}), so it multiplies by half the scale, 2^(e-128).
float e8m0_to_fp32_half(std::uint8_t e);

// E2M1 values doubled, indexed by nibble (bit 3 = sign), as ggml's kvalues_mxfp4.
inline constexpr std::int8_t kMxfp4Doubled[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                                  0, -1, -2, -3, -4, -6, -8, -12};

// Quantizes n floats into out (tensor_bytes(type, n) bytes). Throws QsError for a type
// QuantScope cannot write (the K-quants) or n not a multiple of the block size.
void quantize_blocks(TensorType type, const float* x, std::size_t n, std::uint8_t* out);
std::vector<std::uint8_t> quantize_blocks(TensorType type, std::span<const float> x);

// Dequantizes n elements from `blocks` (tensor_bytes(type, n) bytes) into y.
void dequantize_blocks(TensorType type, const std::uint8_t* blocks, std::size_t n, float* y);
std::vector<float> dequantize_blocks(TensorType type, std::span<const std::uint8_t> blocks,
                                     std::size_t n);

}  // namespace qs::gguf
