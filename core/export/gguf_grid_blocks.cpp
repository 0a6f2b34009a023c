#include "core/export/gguf_grid_blocks.h"

#include <cmath>
#include <string>

#include "core/export/gguf_blocks.h"
#include "core/util/error.h"

namespace qs::gguf {
namespace {

constexpr std::size_t kQK = 32;

// The integer k with x == k * d exactly, in [lo, hi]; throws otherwise.
int grid_code(float x, float d, int lo, int hi, std::size_t index, TensorType type)
{
    const float k = d != 0.0f ? std::nearbyint(x / d) : 0.0f;
    if (!(k >= float(lo) && k <= float(hi)) || k * d != x)
        throw QsError(std::string("GGUF ") + tensor_type_name(type) + ": element " +
                      std::to_string(index) + " (" + std::to_string(x) +
                      ") is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "] times its block scale " + std::to_string(d));
    return int(k);
}

}  // namespace

void encode_blocks_on_grid(TensorType type, const float* x, const float* d, std::size_t n,
                           std::uint8_t* out)
{
    if (type != TensorType::Q8_0 && type != TensorType::Q4_0)
        throw QsError(std::string("GGUF: no on-grid encoder for ") + tensor_type_name(type) +
                      " (Q8_0 and Q4_0 only)");
    if (n % kQK != 0)
        throw QsError("GGUF: " + std::to_string(n) + " values are not whole 32-element blocks");
    const bool q8 = type == TensorType::Q8_0;
    const std::size_t block_bytes = q8 ? 34 : 18;
    for (std::size_t b = 0; b < n / kQK; ++b, out += block_bytes) {
        const std::uint16_t h = fp32_to_fp16(d[b]);
        if (fp16_to_fp32(h) != d[b])
            throw QsError("GGUF: block scale " + std::to_string(d[b]) + " of block " +
                          std::to_string(b) + " is not an fp16 value");
        out[0] = std::uint8_t(h & 0xFF);
        out[1] = std::uint8_t(h >> 8);
        const float* xb = x + b * kQK;
        if (q8) {
            for (std::size_t j = 0; j < kQK; ++j)
                out[2 + j] =
                    std::uint8_t(std::int8_t(grid_code(xb[j], d[b], -128, 127, b * kQK + j, type)));
        } else {
            for (std::size_t j = 0; j < kQK / 2; ++j) {
                const int lo = grid_code(xb[j], d[b], -8, 7, b * kQK + j, type) + 8;
                const int hi = grid_code(xb[j + kQK / 2], d[b], -8, 7, b * kQK + j + 16, type) + 8;
                out[2 + j] = std::uint8_t(lo | (hi << 4));
            }
        }
    }
}

}  // namespace qs::gguf
