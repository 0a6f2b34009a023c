#include "core/export/gguf_blocks.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "core/util/error.h"

// Bit-exactness with ggml's reference quantizers needs every product rounded on its own:
// a fused multiply-add in x*id + 8.5f could flip a Q4_0 nibble at a rounding boundary.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

static_assert(std::endian::native == std::endian::little,
              "GGUF blocks are little-endian; a big-endian host needs byte swaps here");

namespace qs::gguf {

namespace {

constexpr std::size_t kQK = 32;    // elements per Q4_0 / Q8_0 / MXFP4 block
constexpr std::size_t kQKK = 256;  // elements per K-quant super-block

std::uint16_t load_u16(const std::uint8_t* p)
{
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
void store_u16(std::uint8_t* p, std::uint16_t v)
{
    p[0] = static_cast<std::uint8_t>(v & 0xFF);
    p[1] = static_cast<std::uint8_t>(v >> 8);
}
float load_half(const std::uint8_t* p)
{
    return fp16_to_fp32(load_u16(p));
}

// --- the writable 32-element formats ------------------------------------------------------

// Q8_0: d = amax/127 (stored fp16), q = round-half-away(x / d) with the fp32 d.
void quantize_q8_0(const float* x, std::size_t nb, std::uint8_t* out)
{
    for (std::size_t b = 0; b < nb; ++b, x += kQK, out += 34) {
        float amax = 0.0f;
        for (std::size_t j = 0; j < kQK; ++j)
            amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_u16(out, fp32_to_fp16(d));
        for (std::size_t j = 0; j < kQK; ++j)
            out[2 + j] = static_cast<std::uint8_t>(static_cast<std::int8_t>(std::round(x[j] * id)));
    }
}

void dequantize_q8_0(const std::uint8_t* in, std::size_t nb, float* y)
{
    for (std::size_t b = 0; b < nb; ++b, in += 34, y += kQK) {
        const float d = load_half(in);
        for (std::size_t j = 0; j < kQK; ++j)
            y[j] = static_cast<std::int8_t>(in[2 + j]) * d;
    }
}

// Q4_0: d = (the value of largest magnitude, sign kept) / -8, so that value maps to code 0
// (-8) exactly; codes are trunc(x/d + 8.5) capped at 15. Element j sits in the low nibble of
// byte j, element j+16 in the high nibble.
void quantize_q4_0(const float* x, std::size_t nb, std::uint8_t* out)
{
    for (std::size_t b = 0; b < nb; ++b, x += kQK, out += 18) {
        float amax = 0.0f;
        float max = 0.0f;
        for (std::size_t j = 0; j < kQK; ++j) {
            if (amax < std::fabs(x[j])) {  // strict: the first of equal magnitudes wins
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_u16(out, fp32_to_fp16(d));
        for (std::size_t j = 0; j < kQK / 2; ++j) {
            const float x0 = x[j] * id;
            const float x1 = x[j + kQK / 2] * id;
            const int q0 = std::min(15, static_cast<int>(static_cast<std::int8_t>(x0 + 8.5f)));
            const int q1 = std::min(15, static_cast<int>(static_cast<std::int8_t>(x1 + 8.5f)));
            out[2 + j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
        }
    }
}

void dequantize_q4_0(const std::uint8_t* in, std::size_t nb, float* y)
{
    for (std::size_t b = 0; b < nb; ++b, in += 18, y += kQK) {
        const float d = load_half(in);
        for (std::size_t j = 0; j < kQK / 2; ++j) {
            y[j] = ((in[2 + j] & 0x0F) - 8) * d;
            y[j + kQK / 2] = ((in[2 + j] >> 4) - 8) * d;
        }
    }
}

// Nearest doubled-E2M1 code to x at half-scale d; ties go to the lower index, i.e. the
// smaller magnitude, and 0 is code 0 (not the negative zero 8).
std::uint8_t nearest_mxfp4(float x, float d)
{
    int best = 0;
    float best_err = std::fabs(kMxfp4Doubled[0] * d - x);
    for (int i = 1; i < 16; ++i) {
        const float err = std::fabs(kMxfp4Doubled[i] * d - x);
        if (err < best_err) {
            best = i;
            best_err = err;
        }
    }
    return static_cast<std::uint8_t>(best);
}

// MXFP4: shared exponent e = floor(log2(amax)) - 2 + 127 (E2M1's largest binade is 2^2), codes
// nearest on the grid. ggml casts without a clamp; blocks below 2^-125 would underflow the
// byte there, here they clamp to e = 0.
void quantize_mxfp4(const float* x, std::size_t nb, std::uint8_t* out)
{
    for (std::size_t b = 0; b < nb; ++b, x += kQK, out += 17) {
        float amax = 0.0f;
        for (std::size_t j = 0; j < kQK; ++j)
            amax = std::max(amax, std::fabs(x[j]));
        std::uint8_t e = 0;
        if (amax > 0.0f) {
            const float biased = std::floor(std::log2(amax)) - 2.0f + 127.0f;
            e = static_cast<std::uint8_t>(std::clamp(biased, 0.0f, 255.0f));
        }
        const float d = e8m0_to_fp32_half(e);
        out[0] = e;
        for (std::size_t j = 0; j < kQK / 2; ++j)
            out[1 + j] = static_cast<std::uint8_t>(nearest_mxfp4(x[j], d) |
                                                   (nearest_mxfp4(x[j + kQK / 2], d) << 4));
    }
}

void dequantize_mxfp4(const std::uint8_t* in, std::size_t nb, float* y)
{
    for (std::size_t b = 0; b < nb; ++b, in += 17, y += kQK) {
        const float d = e8m0_to_fp32_half(in[0]);
        for (std::size_t j = 0; j < kQK / 2; ++j) {
            y[j] = kMxfp4Doubled[in[1 + j] & 0x0F] * d;
            y[j + kQK / 2] = kMxfp4Doubled[in[1 + j] >> 4] * d;
        }
    }
}

// --- K-quants (dequantize only) -----------------------------------------------------------

// Q2_K (84 bytes): scales[16] (low nibble scale, high nibble min), qs[64], d, dmin.
// Each 128 elements use 32 bytes of qs: 2-bit field `shift` of byte l (+16 for the second
// 16-element sub-block) gives elements in order, one scale byte per 16 elements.
void dequantize_q2_k(const std::uint8_t* in, std::size_t nb, float* y)
{
    for (std::size_t b = 0; b < nb; ++b, in += 84) {
        const std::uint8_t* scales = in;
        const std::uint8_t* q = in + 16;
        const float d = load_half(in + 80);
        const float dmin = load_half(in + 82);
        int is = 0;
        for (std::size_t half = 0; half < kQKK; half += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; ++part) {
                    const std::uint8_t sc = scales[is++];
                    const float dl = d * (sc & 0xF);
                    const float ml = dmin * (sc >> 4);
                    for (int l = 0; l < 16; ++l)
                        *y++ = dl * ((q[l + 16 * part] >> shift) & 3) - ml;
                }
            }
        }
    }
}

// 6-bit scale j of Q3_K's 12 packed bytes: low 4 bits from byte j (j < 8) or the high nibble
// of byte j-8, high 2 bits from byte 8 + j%4 at bit 2*(j/4); stored with a +32 offset.
int q3_k_scale(const std::uint8_t* s, int j)
{
    const int low = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | (high << 4)) - 32;
}

// Q3_K (110 bytes): hmask[32], qs[64], scales[12], d. Value = d * scale * (q2 - 4 * !hbit),
// the high bit of element (k*32 + l) being bit k of hmask[l].
void dequantize_q3_k(const std::uint8_t* in, std::size_t nb, float* y)
{
    for (std::size_t b = 0; b < nb; ++b, in += 110) {
        const std::uint8_t* hm = in;
        const std::uint8_t* q = in + 32;
        const std::uint8_t* scales = in + 96;
        const float d_all = load_half(in + 108);
        int is = 0;
        std::uint8_t m = 1;
        for (std::size_t half = 0; half < kQKK; half += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m = static_cast<std::uint8_t>(m << 1)) {
                for (int part = 0; part < 2; ++part) {
                    const float dl = d_all * q3_k_scale(scales, is++);
                    for (int l = 0; l < 16; ++l) {
                        const int k = l + 16 * part;
                        *y++ = dl * (((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4));
                    }
                }
            }
        }
    }
}

// Scale and min j (0..7) of the 12-byte 6-bit packing shared by Q4_K and Q5_K.
void k4_scale_min(const std::uint8_t* s, int j, int& sc, int& mn)
{
    if (j < 4) {
        sc = s[j] & 63;
        mn = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// Q4_K (144 bytes): d, dmin, scales[12], qs[128]; each 64 elements use 32 bytes, low nibbles
// first (scale 2k) then high nibbles (scale 2k+1). Value = d*sc*q - dmin*m.
// Q5_K (176 bytes) adds qh[32] before qs: bit 2k / 2k+1 of qh[l] is the fifth bit.
void dequantize_q45_k(const std::uint8_t* in, std::size_t nb, float* y, bool five_bit)
{
    const std::size_t bytes = five_bit ? 176 : 144;
    for (std::size_t b = 0; b < nb; ++b, in += bytes) {
        const float d = load_half(in);
        const float dmin = load_half(in + 2);
        const std::uint8_t* scales = in + 4;
        const std::uint8_t* qh = in + 16;
        const std::uint8_t* q = in + (five_bit ? 48 : 16);
        for (int k = 0; k < 4; ++k, q += 32) {
            int sc = 0;
            int mn = 0;
            k4_scale_min(scales, 2 * k, sc, mn);
            const float d1 = d * sc;
            const float m1 = dmin * mn;
            k4_scale_min(scales, 2 * k + 1, sc, mn);
            const float d2 = d * sc;
            const float m2 = dmin * mn;
            const int u1 = 1 << (2 * k);
            const int u2 = 2 << (2 * k);
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * ((q[l] & 0xF) + (five_bit && (qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * ((q[l] >> 4) + (five_bit && (qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

// Q6_K (210 bytes): ql[128], qh[64], int8 scales[16], d. Per 128 elements, 64 bytes of ql
// and 32 of qh: element l + 32*i takes nibble (i/2) of ql[l + 32*(i%2)] and bits 2i..2i+1 of
// qh[l]; code - 32, times d * scale[l/16 + 2*i].
void dequantize_q6_k(const std::uint8_t* in, std::size_t nb, float* y)
{
    for (std::size_t b = 0; b < nb; ++b, in += 210) {
        const std::uint8_t* ql = in;
        const std::uint8_t* qh = in + 128;
        const auto* sc = reinterpret_cast<const std::int8_t*>(in + 192);
        const float d = load_half(in + 208);
        for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                for (int i = 0; i < 4; ++i) {
                    const int low = (i < 2 ? ql[l + 32 * i] & 0xF : ql[l + 32 * (i - 2)] >> 4);
                    const int q = (low | (((qh[l] >> (2 * i)) & 3) << 4)) - 32;
                    y[l + 32 * i] = d * sc[is + 2 * i] * q;
                }
            }
        }
    }
}

std::size_t checked_blocks(TensorType type, std::size_t n, const char* what)
{
    const auto& t = tensor_type_traits(type);
    if (n % static_cast<std::size_t>(t.block_size) != 0)
        throw QsError(std::string("GGUF ") + what + " " + t.name + ": " + std::to_string(n) +
                      " elements are not a multiple of the block size " +
                      std::to_string(t.block_size));
    return n / static_cast<std::size_t>(t.block_size);
}

}  // namespace

std::uint16_t fp32_to_fp16(float x)
{
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
    std::uint32_t a = bits & 0x7FFFFFFF;
    if (a > 0x7F800000) return sign | 0x7E00;   // NaN
    if (a >= 0x477FF000) return sign | 0x7C00;  // >= 65520 rounds to infinity
    if (a >= 0x38800000) {                      // normal half (>= 2^-14)
        a += 0x0FFF + ((a >> 13) & 1);          // round to nearest even on the 13 dropped bits
        return static_cast<std::uint16_t>(sign | ((a - 0x38000000) >> 13));
    }
    // Subnormal half: units of 2^-24; the product is exact, nearbyint rounds half to even.
    const float units = std::bit_cast<float>(a) * 16777216.0f;
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::nearbyint(units)));
}

float fp16_to_fp32(std::uint16_t h)
{
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1F;
    const std::uint32_t mant = h & 0x3FF;
    if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
        const float v = static_cast<float>(mant) * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    if (exp == 31)  // inf, or NaN made quiet as F16C and torch do
        return std::bit_cast<float>(sign | 0x7F800000 | (mant << 13) | (mant ? 0x400000u : 0u));
    return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

float e8m0_to_fp32_half(std::uint8_t e)
{
    return std::ldexp(1.0f, static_cast<int>(e) - 128);
}

void quantize_blocks(TensorType type, const float* x, std::size_t n, std::uint8_t* out)
{
    const std::size_t nb = checked_blocks(type, n, "quantize");
    switch (type) {
        case TensorType::F32:
            std::memcpy(out, x, n * sizeof(float));
            return;
        case TensorType::F16:
            for (std::size_t i = 0; i < n; ++i)
                store_u16(out + 2 * i, fp32_to_fp16(x[i]));
            return;
        case TensorType::Q8_0:
            quantize_q8_0(x, nb, out);
            return;
        case TensorType::Q4_0:
            quantize_q4_0(x, nb, out);
            return;
        case TensorType::MXFP4:
            quantize_mxfp4(x, nb, out);
            return;
        default:
            throw QsError(std::string("GGUF: QuantScope reads ") + tensor_type_name(type) +
                          " but does not write it (write F32, F16, Q8_0, Q4_0 or MXFP4)");
    }
}

std::vector<std::uint8_t> quantize_blocks(TensorType type, std::span<const float> x)
{
    checked_blocks(type, x.size(), "quantize");
    std::vector<std::uint8_t> out(*tensor_bytes(type, x.size()));
    quantize_blocks(type, x.data(), x.size(), out.data());
    return out;
}

void dequantize_blocks(TensorType type, const std::uint8_t* blocks, std::size_t n, float* y)
{
    const std::size_t nb = checked_blocks(type, n, "dequantize");
    switch (type) {
        case TensorType::F32:
            std::memcpy(y, blocks, n * sizeof(float));
            return;
        case TensorType::F16:
            for (std::size_t i = 0; i < n; ++i)
                y[i] = load_half(blocks + 2 * i);
            return;
        case TensorType::Q8_0:
            dequantize_q8_0(blocks, nb, y);
            return;
        case TensorType::Q4_0:
            dequantize_q4_0(blocks, nb, y);
            return;
        case TensorType::MXFP4:
            dequantize_mxfp4(blocks, nb, y);
            return;
        case TensorType::Q2_K:
            dequantize_q2_k(blocks, nb, y);
            return;
        case TensorType::Q3_K:
            dequantize_q3_k(blocks, nb, y);
            return;
        case TensorType::Q4_K:
            dequantize_q45_k(blocks, nb, y, false);
            return;
        case TensorType::Q5_K:
            dequantize_q45_k(blocks, nb, y, true);
            return;
        case TensorType::Q6_K:
            dequantize_q6_k(blocks, nb, y);
            return;
    }
    throw QsError("GGUF: unknown tensor type");
}

std::vector<float> dequantize_blocks(TensorType type, std::span<const std::uint8_t> blocks,
                                     std::size_t n)
{
    const std::size_t nb = checked_blocks(type, n, "dequantize");
    const std::size_t need = nb * tensor_type_traits(type).block_bytes;
    if (blocks.size() != need)
        throw QsError(std::string("GGUF dequantize ") + tensor_type_name(type) + ": " +
                      std::to_string(blocks.size()) + " bytes given, " + std::to_string(need) +
                      " needed for " + std::to_string(n) + " elements");
    std::vector<float> y(n);
    dequantize_blocks(type, blocks.data(), n, y.data());
    return y;
}

}  // namespace qs::gguf
