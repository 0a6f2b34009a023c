// Q8_0 / Q4_0 blocks written from values that already lie on the block grid, with the scale
// QuantScope's quantizer chose, instead of llama.cpp's own rule (Q8_0: d = absmax/127, Q4_0:
// d = signed max/-8). A symmetric INT weight quantized with fp16 scales, w = s * (q - 2^(b-1)),
// is such a value when each 32-weight block shares one scale s: Q8_0 holds every b <= 8
// (stored code w/s in [-128, 127]), Q4_0 every b <= 4 (nibble w/s + 8 in [0, 15]); dequantized
// by llama.cpp (code * fp16 d) the block gives back w bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/export/gguf_format.h"

namespace qs::gguf {

// Encodes n values x (n a multiple of 32) as `type` (Q8_0 or Q4_0) blocks into out
// (tensor_bytes(type, n) bytes), block b with the scale d[b], which must be an fp16 value
// (a zero scale needs an all-zero block). Throws QsError naming the first element whose x / d
// is not an integer in the type's code range, or a scale that is not an fp16 value.
void encode_blocks_on_grid(TensorType type, const float* x, const float* d, std::size_t n,
                           std::uint8_t* out);

}  // namespace qs::gguf
