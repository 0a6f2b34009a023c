// ggml block codecs: hand-worked blocks for every layout (the expected bytes and values are
// computed by hand from the format description, not by the code under test), the fp16 and
// E8M0 conversions, and hashes of ggml's own reference quantizers' output.
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include <c10/util/Half.h>

#include "core/export/gguf_blocks.h"
#include "core/util/error.h"
#include "tests/core/gguf_test_support.h"

using namespace qs::gguf;
using qs::QsError;
using qs::test::pattern;
using qs::test::put_half;

// --- scalar conversions -----------------------------------------------------------------

TEST(GgufBlocks, Fp16HandValues)
{
    EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
    EXPECT_EQ(fp32_to_fp16(-2.0f), 0xC000);
    EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
    EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7BFF);
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // the tie above the largest half rounds to inf
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);         // tie to even (0)
    EXPECT_EQ(fp32_to_fp16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 units: tie to even (2)
    EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie: mantissa stays even
    EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);  // tie: rounds up to even
    EXPECT_EQ(fp32_to_fp16(std::nanf("")) & 0x7E00, 0x7E00);
    EXPECT_EQ(fp16_to_fp32(0x3555), 0.333251953125f);
    EXPECT_EQ(fp16_to_fp32(0x8001), -std::ldexp(1.0f, -24));
    EXPECT_TRUE(std::isinf(fp16_to_fp32(0xFC00)));
}

TEST(GgufBlocks, Fp16MatchesTorchAndRoundTripsEveryHalf)
{
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        const float f = fp16_to_fp32(static_cast<std::uint16_t>(h));
        EXPECT_EQ(std::bit_cast<std::uint32_t>(f),
                  std::bit_cast<std::uint32_t>(static_cast<float>(
                      c10::Half(static_cast<std::uint16_t>(h), c10::Half::from_bits()))));
        if (!std::isnan(f)) ASSERT_EQ(fp32_to_fp16(f), h);
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> bits;
    for (int i = 0; i < 200000; ++i) {
        const float f = std::bit_cast<float>(bits(rng) & 0xC7FFFFFFu);  // |x| < 2^17 mostly
        if (std::isnan(f)) continue;
        ASSERT_EQ(fp32_to_fp16(f), c10::Half(f).x) << f;
    }
}

TEST(GgufBlocks, E8m0HalfScale)
{
    EXPECT_EQ(e8m0_to_fp32_half(127), 0.5f);
    EXPECT_EQ(e8m0_to_fp32_half(128), 1.0f);
    EXPECT_EQ(e8m0_to_fp32_half(0), std::ldexp(1.0f, -128));  // a float subnormal, still exact
    EXPECT_EQ(e8m0_to_fp32_half(254), std::ldexp(1.0f, 126));
}

// --- the writable 32-element blocks -----------------------------------------------------

TEST(GgufBlocks, Q4_0HandWorkedBlock)
{
    // x[j] = j - 16: the largest magnitude is x[0] = -16, so d = -16 / -8 = 2 and the codes
    // are trunc((j - 16) / 2 + 8.5) capped at 15.
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j)
        x[j] = static_cast<float>(j - 16);
    const auto b = quantize_blocks(TensorType::Q4_0, x);
    const std::vector<std::uint8_t> expected = {0x00, 0x40,  // fp16 2.0
                                                0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3, 0xC4,
                                                0xC4, 0xD5, 0xD5, 0xE6, 0xE6, 0xF7, 0xF7, 0xF8};
    EXPECT_EQ(b, expected);
    const auto y = dequantize_blocks(TensorType::Q4_0, b, 32);
    const int codes[32] = {0, 1, 1, 2,  2,  3,  3,  4,  4,  5,  5,  6,  6,  7,  7,  8,
                           8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 15};
    for (int j = 0; j < 32; ++j)
        EXPECT_EQ(y[j], 2.0f * (codes[j] - 8)) << j;
}

TEST(GgufBlocks, Q4_0PositiveMaxAndZeroBlock)
{
    // The signed maximum 8 gives d = -1: 8 -> code 0, and -7 -> trunc(7 + 8.5) = 15.
    std::vector<float> x(32, 0.0f);
    x[0] = 8.0f;
    x[16] = -7.0f;
    const auto b = quantize_blocks(TensorType::Q4_0, x);
    EXPECT_EQ(fp16_to_fp32(static_cast<std::uint16_t>(b[0] | (b[1] << 8))), -1.0f);
    EXPECT_EQ(b[2], 0xF0);  // low nibble x[0] -> 0, high nibble x[16] -> 15
    EXPECT_EQ(b[3], 0x88);  // zeros -> code 8
    const auto y = dequantize_blocks(TensorType::Q4_0, b, 32);
    EXPECT_EQ(y[0], 8.0f);
    EXPECT_EQ(y[16], -7.0f);
    EXPECT_EQ(y[5], 0.0f);
    // An all-zero block: d = 0 / -8 = -0 (fp16 0x8000, as ggml stores it), every code 8.
    const auto z = quantize_blocks(TensorType::Q4_0, std::vector<float>(32, 0.0f));
    EXPECT_EQ(z[0], 0x00);
    EXPECT_EQ(z[1], 0x80);
    for (int j = 2; j < 18; ++j)
        EXPECT_EQ(z[j], 0x88);
}

TEST(GgufBlocks, Q8_0HandWorkedBlockAndRoundTrip)
{
    // x[j] = (j - 16) / 2: amax 8, d = 8/127 (fp16 0x2C08), codes round((j-16) * 7.9375) with
    // halves away from zero: j = 8 gives -63.5 -> -64 and j = 24 gives 63.5 -> 64.
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j)
        x[j] = (j - 16) * 0.5f;
    const auto b = quantize_blocks(TensorType::Q8_0, x);
    ASSERT_EQ(b.size(), 34u);
    EXPECT_EQ(b[0], 0x08);
    EXPECT_EQ(b[1], 0x2C);
    for (int j = 0; j < 32; ++j) {
        const double exact = (j - 16) * 7.9375;
        const long q = std::lround(exact);  // half away from zero
        EXPECT_EQ(static_cast<std::int8_t>(b[2 + j]), q) << j;
    }
    EXPECT_EQ(static_cast<std::int8_t>(b[2 + 0]), -127);
    EXPECT_EQ(static_cast<std::int8_t>(b[2 + 8]), -64);
    EXPECT_EQ(static_cast<std::int8_t>(b[2 + 24]), 64);
    const float d = fp16_to_fp32(0x2C08);
    const auto y = dequantize_blocks(TensorType::Q8_0, b, 32);
    for (int j = 0; j < 32; ++j) {
        EXPECT_EQ(y[j], static_cast<std::int8_t>(b[2 + j]) * d);
        EXPECT_LE(std::fabs(y[j] - x[j]), 0.5f * d + 1e-3f) << j;
    }
    // Many random blocks: error within half a step (plus the fp16 rounding of d).
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> r(32 * 64);
    for (auto& v : r)
        v = dist(rng);
    const auto rb = quantize_blocks(TensorType::Q8_0, r);
    const auto ry = dequantize_blocks(TensorType::Q8_0, rb, r.size());
    for (std::size_t i = 0; i < r.size(); ++i) {
        const float di = fp16_to_fp32(
            static_cast<std::uint16_t>(rb[34 * (i / 32)] | (rb[34 * (i / 32) + 1] << 8)));
        ASSERT_LE(std::fabs(ry[i] - r[i]), 0.51f * di + 127.0f * di * 1e-3f) << i;
    }
}

TEST(GgufBlocks, Mxfp4GridValuesAreExact)
{
    // E2M1 grid times 2^-3: amax 6 * 2^-3 = 0.75, floor(log2 0.75) = -1, e = -1 - 2 + 127 =
    // 124; doubled codes times 2^(124-128) reproduce every value exactly.
    const float grid[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    std::vector<float> x(32);
    int code[32];
    for (int j = 0; j < 16; ++j) {
        const float v = grid[j % 8] / 8.0f;
        x[j] = j < 8 ? v : -v;
        x[16 + j] = -x[j];
        code[j] = j % 8 == 0 ? 0 : j;  // x[8..15] are negative: code 8 + magnitude index
        code[16 + j] = (j % 8 == 0) ? 0 : (j < 8 ? 8 + j : j - 8);
    }
    x[8] = 0.0f;  // not -0: ggml maps -0 to code 0 too, but keep the exact-equality check simple
    x[24] = 0.0f;
    const auto b = quantize_blocks(TensorType::MXFP4, x);
    ASSERT_EQ(b.size(), 17u);
    EXPECT_EQ(b[0], 124);
    for (int j = 0; j < 16; ++j)
        EXPECT_EQ(b[1 + j], code[j] | (code[16 + j] << 4)) << j;
    const auto y = dequantize_blocks(TensorType::MXFP4, b, 32);
    for (int j = 0; j < 32; ++j)
        EXPECT_EQ(y[j], x[j]) << j;
}

TEST(GgufBlocks, Mxfp4RoundingAndClipping)
{
    // amax 7: floor(log2 7) = 2, e = 127, half-scale 0.5, so doubled codes step by the E2M1
    // grid itself. 7 clips to 6 (code 7); ties go to the smaller magnitude: 5 -> 4 (code 6),
    // 0.25 -> 0 (code 0), 0.75 -> 0.5 (code 1), -2.5 -> -2 (code 12).
    std::vector<float> x(32, 0.0f);
    x[0] = 7.0f;
    x[1] = 5.0f;
    x[2] = 0.25f;
    x[3] = 0.75f;
    x[16] = -2.5f;
    x[17] = 1.26f;  // nearer 1.5 than 1.0: code 3
    const auto b = quantize_blocks(TensorType::MXFP4, x);
    EXPECT_EQ(b[0], 127);
    EXPECT_EQ(b[1], 7 | (12 << 4));
    EXPECT_EQ(b[2], 6 | (3 << 4));
    EXPECT_EQ(b[3], 0);
    EXPECT_EQ(b[4], 1);
    const auto y = dequantize_blocks(TensorType::MXFP4, b, 32);
    EXPECT_EQ(y[0], 6.0f);
    EXPECT_EQ(y[1], 4.0f);
    EXPECT_EQ(y[16], -2.0f);
    EXPECT_EQ(y[17], 1.5f);
    // All zeros: e = 0 and zero codes.
    const auto z = quantize_blocks(TensorType::MXFP4, std::vector<float>(32, 0.0f));
    for (auto v : z)
        EXPECT_EQ(v, 0);
}

TEST(GgufBlocks, F32AndF16AreElementwise)
{
    const std::vector<float> x = {1.0f, -0.5f, 65504.0f, 1e-8f};
    const auto b32 = quantize_blocks(TensorType::F32, x);
    EXPECT_EQ(b32.size(), 16u);
    EXPECT_EQ(dequantize_blocks(TensorType::F32, b32, 4), x);
    const auto b16 = quantize_blocks(TensorType::F16, x);
    const std::vector<std::uint8_t> expected = {0x00, 0x3C, 0x00, 0xB8, 0xFF, 0x7B, 0x00, 0x00};
    EXPECT_EQ(b16, expected);  // 1e-8 is below half the smallest subnormal: 0
}

TEST(GgufBlocks, RefusesKQuantWritesAndPartialBlocks)
{
    EXPECT_THROW(quantize_blocks(TensorType::Q4_K, std::vector<float>(256)), QsError);
    EXPECT_THROW(quantize_blocks(TensorType::Q4_0, std::vector<float>(31)), QsError);
    EXPECT_THROW(dequantize_blocks(TensorType::Q8_0, std::vector<std::uint8_t>(33), 32), QsError);
}

// --- K-quant super-blocks (dequantize only) -----------------------------------------------
// Each test builds a block byte by byte from the layout in ggml-common.h, checks a few values
// worked out by hand, then every element against the layout written as index arithmetic.

namespace {

// 6-bit (scale, min) pairs of Q4_K/Q5_K: j < 4 in the low 6 bits of bytes j and j+4; j >= 4
// split into a nibble in byte j+4 and 2 high bits on top of bytes j-4 (scale) and j (min).
std::array<std::uint8_t, 12> pack_k4_scales(const int sc[8], const int mn[8])
{
    std::array<std::uint8_t, 12> s{};
    for (int j = 0; j < 4; ++j) {
        s[j] = static_cast<std::uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = static_cast<std::uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
        s[j + 8] = static_cast<std::uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
    return s;
}

// 16 6-bit Q3_K scales (stored +32): low nibbles in bytes 0..7 (j < 8) or their high halves
// (j >= 8), the top 2 bits in byte 8 + j%4 at bit 2*(j/4).
std::array<std::uint8_t, 12> pack_q3_scales(const int sc[16])
{
    std::array<std::uint8_t, 12> s{};
    for (int j = 0; j < 16; ++j) {
        const int v = sc[j] + 32;
        if (j < 8)
            s[j] |= static_cast<std::uint8_t>(v & 0xF);
        else
            s[j - 8] |= static_cast<std::uint8_t>((v & 0xF) << 4);
        s[8 + j % 4] |= static_cast<std::uint8_t>((v >> 4) << (2 * (j / 4)));
    }
    return s;
}

}  // namespace

TEST(GgufKQuants, Q4_KHandBuiltBlock)
{
    const int sc[8] = {1, 2, 3, 4, 33, 50, 63, 17};
    const int mn[8] = {0, 5, 10, 63, 20, 48, 1, 32};
    std::vector<std::uint8_t> b(144, 0x53);  // every nibble pair: low 3, high 5
    put_half(b, 0, 1.0f);                    // d
    put_half(b, 2, 0.5f);                    // dmin
    const auto s = pack_k4_scales(sc, mn);
    std::copy(s.begin(), s.end(), b.begin() + 4);
    auto y = dequantize_blocks(TensorType::Q4_K, b, 256);
    EXPECT_EQ(y[0], 3.0f);                             // 1*1*3 - 0.5*0
    EXPECT_EQ(y[32], 2.0f * 5 - 0.5f * 5);             // high nibbles of the first 32 bytes, pair 1
    EXPECT_EQ(y[64 * 2 + 32], 50.0f * 5 - 0.5f * 48);  // pair 5 (a packed one)
    EXPECT_EQ(y[255], 17.0f * 5 - 0.5f * 32);          // pair 7

    const auto qs = pattern(128, 3);
    std::copy(qs.begin(), qs.end(), b.begin() + 16);
    y = dequantize_blocks(TensorType::Q4_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int k = e / 64, r = e % 64, l = r % 32, pair = 2 * k + r / 32;
        const int q = r < 32 ? (qs[32 * k + l] & 0xF) : (qs[32 * k + l] >> 4);
        ASSERT_EQ(y[e], 1.0f * sc[pair] * q - 0.5f * mn[pair]) << e;
    }
}

TEST(GgufKQuants, Q5_KHandBuiltBlock)
{
    const int sc[8] = {7, 1, 40, 2, 63, 9, 16, 31};
    const int mn[8] = {3, 0, 17, 60, 1, 33, 8, 62};
    std::vector<std::uint8_t> b(176, 0);
    put_half(b, 0, 0.25f);
    put_half(b, 2, 2.0f);
    const auto s = pack_k4_scales(sc, mn);
    std::copy(s.begin(), s.end(), b.begin() + 4);
    b[16 + 0] = 0x01;       // qh[0] bit 0: fifth bit of element 0
    b[16 + 1] = 0x08;       // qh[1] bit 3: fifth bit of element 64 + 32 + 1
    b[48 + 0] = 0x0F;       // element 0 low nibble 15, element 32 high nibble 0
    b[48 + 32 + 1] = 0xA0;  // element 64+32+1 high nibble 10
    auto y = dequantize_blocks(TensorType::Q5_K, b, 256);
    EXPECT_EQ(y[0], 0.25f * 7 * 31 - 2.0f * 3);  // 15 + 16
    EXPECT_EQ(y[32], 0.25f * 1 * 0 - 2.0f * 0);
    EXPECT_EQ(y[97], 0.25f * 2 * 26 - 2.0f * 60);  // 10 + 16, pair 3
    EXPECT_EQ(y[1], -2.0f * 3);

    const auto qh = pattern(32, 4);
    const auto qs = pattern(128, 5);
    std::copy(qh.begin(), qh.end(), b.begin() + 16);
    std::copy(qs.begin(), qs.end(), b.begin() + 48);
    y = dequantize_blocks(TensorType::Q5_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int k = e / 64, r = e % 64, l = r % 32, pair = 2 * k + r / 32;
        const int low = r < 32 ? (qs[32 * k + l] & 0xF) : (qs[32 * k + l] >> 4);
        const int q = low + 16 * ((qh[l] >> pair) & 1);
        ASSERT_EQ(y[e], 0.25f * sc[pair] * q - 2.0f * mn[pair]) << e;
    }
}

TEST(GgufKQuants, Q6_KHandBuiltBlock)
{
    std::vector<std::uint8_t> b(210, 0);
    std::fill(b.begin(), b.begin() + 128, 0x21);        // ql: low nibble 1, high nibble 2
    std::fill(b.begin() + 128, b.begin() + 192, 0xE4);  // qh: 2-bit fields 0, 1, 2, 3
    for (int j = 0; j < 16; ++j)
        b[192 + j] = 2;
    b[192] = static_cast<std::uint8_t>(-3);  // int8 scale 0
    put_half(b, 208, 0.5f);
    auto y = dequantize_blocks(TensorType::Q6_K, b, 256);
    EXPECT_EQ(y[0], 0.5f * -3 * (1 - 32));         // 46.5
    EXPECT_EQ(y[32], 0.5f * 2 * ((1 | 16) - 32));  // -15
    EXPECT_EQ(y[64], 0.5f * 2 * ((2 | 32) - 32));  // 2
    EXPECT_EQ(y[96], 0.5f * 2 * ((2 | 48) - 32));  // 18
    EXPECT_EQ(y[128], 0.5f * 2 * (1 - 32));        // second half uses scales 8..15

    const auto body = pattern(208, 6);
    std::copy(body.begin(), body.end(), b.begin());
    y = dequantize_blocks(TensorType::Q6_K, b, 256);
    const float d = 0.5f;
    for (int e = 0; e < 256; ++e) {
        const int h = e / 128, r = e % 128, i = r / 32, l = r % 32;
        const std::uint8_t qlb = body[64 * h + l + 32 * (i % 2)];
        const int low = i < 2 ? (qlb & 0xF) : (qlb >> 4);
        const int high = (body[128 + 32 * h + l] >> (2 * i)) & 3;
        const auto scale = static_cast<std::int8_t>(body[192 + 8 * h + l / 16 + 2 * i]);
        ASSERT_EQ(y[e], d * scale * ((low | (high << 4)) - 32)) << e;
    }
}

TEST(GgufKQuants, Q2_KHandBuiltBlock)
{
    std::vector<std::uint8_t> b(84, 0);
    for (int j = 0; j < 16; ++j)
        b[j] = static_cast<std::uint8_t>((j % 16) | ((15 - j) << 4));
    b[16] = 0b11100100;  // element 0: 0, element 32: 1, element 64: 2, element 96: 3
    put_half(b, 80, 0.5f);
    put_half(b, 82, 0.25f);
    auto y = dequantize_blocks(TensorType::Q2_K, b, 256);
    // Element 32*s of the first 128 uses scale byte 2s: (scale 2s, min 15-2s).
    EXPECT_EQ(y[0], 0.5f * 0 * 0 - 0.25f * 15);
    EXPECT_EQ(y[32], 0.5f * 2 * 1 - 0.25f * 13);
    EXPECT_EQ(y[64], 0.5f * 4 * 2 - 0.25f * 11);
    EXPECT_EQ(y[96], 0.5f * 6 * 3 - 0.25f * 9);
    EXPECT_EQ(y[16], 0.5f * 1 * 0 - 0.25f * 14);  // qs[16], scale byte 1

    const auto body = pattern(80, 7);
    std::copy(body.begin(), body.end(), b.begin());
    y = dequantize_blocks(TensorType::Q2_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int h = e / 128, r = e % 128, s = r / 32, part = (r % 32) / 16, l = r % 16;
        const int q = (body[16 + 32 * h + 16 * part + l] >> (2 * s)) & 3;
        const std::uint8_t sc = body[8 * h + 2 * s + part];
        ASSERT_EQ(y[e], 0.5f * (sc & 0xF) * q - 0.25f * (sc >> 4)) << e;
    }
}

TEST(GgufKQuants, Q3_KHandBuiltBlock)
{
    int sc[16];
    for (int j = 0; j < 16; ++j)
        sc[j] = (j % 2 ? -1 : 1) * (2 * j + 1);  // covers -32..31 bits
    sc[15] = -32;
    std::vector<std::uint8_t> b(110, 0);
    b[0] = 0x01;         // hmask[0] bit 0: element 0 has its high bit (no -4)
    b[32] = 0b00000011;  // qs[0]: element 0 -> 3, element 32 -> 0
    const auto s = pack_q3_scales(sc);
    std::copy(s.begin(), s.end(), b.begin() + 96);
    put_half(b, 108, 0.125f);
    auto y = dequantize_blocks(TensorType::Q3_K, b, 256);
    EXPECT_EQ(y[0], 0.125f * 1 * 3);            // 3 - 0
    EXPECT_EQ(y[32], 0.125f * 5 * (0 - 4));     // scale 2 = 5, no high bit
    EXPECT_EQ(y[255], 0.125f * -32 * (0 - 4));  // last scale, all zero bits

    const auto body = pattern(96, 8);
    std::copy(body.begin(), body.end(), b.begin());
    y = dequantize_blocks(TensorType::Q3_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int h = e / 128, r = e % 128, s2 = r / 32, part = (r % 32) / 16, l = r % 16;
        const int k = 16 * part + l;
        const int q = (body[32 + 32 * h + k] >> (2 * s2)) & 3;
        const bool hbit = (body[k] >> (4 * h + s2)) & 1;
        ASSERT_EQ(y[e], 0.125f * sc[8 * h + 2 * s2 + part] * (q - (hbit ? 0 : 4))) << e;
    }
}

// --- against ggml's reference code ----------------------------------------------------------

namespace {

std::uint64_t fnv1a(const void* p, std::size_t n)
{
    const auto* b = static_cast<const std::uint8_t*>(p);
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace

// The hashes are of the output of ggml's own quantize_row_{q4_0,q8_0,mxfp4}_ref and
// dequantize_row_q{2..6}_K (ggml-quants.c, compiled with F16C fp16 conversion) on the same
// integer-generated inputs; a mismatch means a file we write would differ from llama.cpp's
// quantizer, or a K-quant checkpoint would be read differently from llama.cpp.
TEST(GgufBlocks, MatchesGgmlReferenceOutputs)
{
    const std::size_t n = 4096;
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i)
        x[i] = static_cast<float>(static_cast<int>((i * 2654435761u) % 2001u) - 1000) / 37.0f;
    std::fill(x.begin(), x.begin() + 32, 0.0f);  // one all-zero block
    auto hash = [](const std::vector<std::uint8_t>& b) { return fnv1a(b.data(), b.size()); };
    EXPECT_EQ(hash(quantize_blocks(TensorType::Q4_0, x)), 0xd033c5e08590b716ull);
    EXPECT_EQ(hash(quantize_blocks(TensorType::Q8_0, x)), 0x602d6efb0cf4c1d6ull);
    EXPECT_EQ(hash(quantize_blocks(TensorType::MXFP4, x)), 0xd649aeafc634bef1ull);

    struct Case {
        TensorType type;
        std::size_t scale_at[2];  // fp16 d (and dmin) inside the block, set to finite values
        std::uint64_t expected;
    };
    const Case cases[] = {{TensorType::Q2_K, {80, 82}, 0x578b42192b4dddf1ull},
                          {TensorType::Q3_K, {108, 108}, 0x03dc67f10d245a1dull},
                          {TensorType::Q4_K, {0, 2}, 0xce463c3c31ade9b3ull},
                          {TensorType::Q5_K, {0, 2}, 0x49aa4b3d38358150ull},
                          {TensorType::Q6_K, {208, 208}, 0x34cdd52f0ce58696ull}};
    for (const auto& c : cases) {
        const std::size_t nb = 4;
        const std::size_t bytes = tensor_type_traits(c.type).block_bytes;
        std::vector<std::uint8_t> b(nb * bytes);
        for (std::size_t i = 0; i < b.size(); ++i)
            b[i] = static_cast<std::uint8_t>(i * 131 + 7);
        for (std::size_t blk = 0; blk < nb; ++blk) {
            for (std::size_t at : c.scale_at) {
                b[blk * bytes + at] = 0x66;
                b[blk * bytes + at + 1] = static_cast<std::uint8_t>(0x2C + blk);
            }
        }
        const auto y = dequantize_blocks(c.type, b, nb * 256);
        EXPECT_EQ(fnv1a(y.data(), y.size() * sizeof(float)), c.expected)
            << tensor_type_name(c.type);
    }
}
