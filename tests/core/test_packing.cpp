// Checkpoint packing codecs (core/export): hand-worked words for each layout, bit-exact
// round trips over every supported bit width, act-order g_idx, and the refusals.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/export/awq_packing.h"
#include "core/export/bit_packing.h"
#include "core/export/compressed_tensors_packing.h"
#include "core/export/gptq_packing.h"
#include "core/util/error.h"

namespace {

using qs::IntQuantizedLinear;
using qs::QsError;

constexpr std::uint16_t kHalfOne = 0x3C00;
constexpr std::uint16_t kHalfHalf = 0x3800;

std::int32_t word(std::uint32_t bits)
{
    return static_cast<std::int32_t>(bits);
}

// A layer with every code 0, zero `zero`, scale 1.0, contiguous groups.
IntQuantizedLinear blank(std::int64_t out, std::int64_t in, int bits, std::int64_t group_size,
                         std::int32_t zero)
{
    IntQuantizedLinear q;
    q.out_features = out;
    q.in_features = in;
    q.bits = bits;
    q.group_size = group_size;
    q.codes.assign(out * in, 0);
    q.scales.assign(out * q.groups(), kHalfOne);
    q.zeros.assign(out * q.groups(), zero);
    return q;
}

// Random codes, zeros in [1, 2^bits) (every layout can hold them), fp16 scales, and with
// act_order a g_idx that scatters columns over the groups.
IntQuantizedLinear random_linear(std::int64_t out, std::int64_t in, int bits,
                                 std::int64_t group_size, bool act_order, unsigned seed)
{
    std::mt19937 rng(seed);
    IntQuantizedLinear q = blank(out, in, bits, group_size, 1);
    std::uniform_int_distribution<std::int32_t> code(0, (1 << bits) - 1);
    std::uniform_int_distribution<std::int32_t> zero(1, (1 << bits) - 1);
    std::uniform_real_distribution<float> scale(0.001f, 0.1f);
    for (auto& c : q.codes)
        c = code(rng);
    for (auto& z : q.zeros)
        z = zero(rng);
    for (auto& s : q.scales)
        s = qs::float_to_fp16_bits(scale(rng));
    if (act_order) {
        q.g_idx = q.full_g_idx();
        std::shuffle(q.g_idx.begin(), q.g_idx.end(), rng);
    }
    return q;
}

void expect_same_linear(const IntQuantizedLinear& a, const IntQuantizedLinear& b)
{
    EXPECT_EQ(a.out_features, b.out_features);
    EXPECT_EQ(a.in_features, b.in_features);
    EXPECT_EQ(a.bits, b.bits);
    EXPECT_EQ(a.codes, b.codes);
    EXPECT_EQ(a.zeros, b.zeros);
    EXPECT_EQ(a.scales, b.scales);
    EXPECT_EQ(a.full_g_idx(), b.full_g_idx());
}

// ---------------------------------------------------------------- generic bit stream

TEST(PackingBits, LowestBitsFirstAndPadding)
{
    // 4-bit codes 0..7 along a row give one word, code k in bits 4k..4k+3.
    std::vector<std::int32_t> codes = {0, 1, 2, 3, 4, 5, 6, 7};
    EXPECT_EQ(qs::pack_bits(codes, 1, 8, 4, qs::PackAxis::Cols, "t"),
              std::vector<std::int32_t>{0x76543210});
    // The same codes down a column.
    EXPECT_EQ(qs::pack_bits(codes, 8, 1, 4, qs::PackAxis::Rows, "t"),
              std::vector<std::int32_t>{0x76543210});
    // 9 codes need a second, zero-padded word.
    codes.push_back(0xF);
    EXPECT_EQ(qs::pack_bits(codes, 1, 9, 4, qs::PackAxis::Cols, "t"),
              (std::vector<std::int32_t>{0x76543210, 0xF}));
    EXPECT_EQ(qs::unpack_bits({0x76543210, 0xF}, 1, 9, 4, qs::PackAxis::Cols, "t"), codes);
}

TEST(PackingBits, Fp16Helpers)
{
    EXPECT_EQ(qs::float_to_fp16_bits(1.0f), kHalfOne);
    EXPECT_EQ(qs::float_to_fp16_bits(0.5f), kHalfHalf);
    EXPECT_EQ(qs::fp16_bits_to_float(0x4000), 2.0f);
    EXPECT_EQ(qs::fp16_bits_to_float(0xBC00), -1.0f);
}

// ---------------------------------------------------------------- GPTQ v1

TEST(PackingGptq, FourBitWordsDownTheInputDimension)
{
    // W [8 out, 8 in], one group; output o has codes (i + o) % 16 along the input.
    IntQuantizedLinear q = blank(8, 8, 4, 8, 1);
    for (int o = 0; o < 8; ++o)
        for (int i = 0; i < 8; ++i)
            q.codes[o * 8 + i] = (i + o) % 16;
    for (int o = 0; o < 8; ++o)
        q.zeros[o] = o + 1;  // stored as zero - 1 = o
    const qs::GptqPacked p = qs::gptq_pack(q);
    EXPECT_EQ(p.qweight_shape(), (std::vector<std::int64_t>{1, 8}));
    EXPECT_EQ(p.qweight[0], 0x76543210);  // output 0: codes 0..7, lowest nibble = input 0
    EXPECT_EQ(p.qweight[1], word(0x87654321));
    EXPECT_EQ(p.qweight[7], word(0xEDCBA987));
    // qzeros [1 group, 8 * 4 / 32 = 1 word]: zero - 1 packed along the outputs.
    EXPECT_EQ(p.qzeros_shape(), (std::vector<std::int64_t>{1, 1}));
    EXPECT_EQ(p.qzeros, std::vector<std::int32_t>{0x76543210});
    EXPECT_EQ(p.scales_shape(), (std::vector<std::int64_t>{1, 8}));
    EXPECT_EQ(p.g_idx, std::vector<std::int32_t>(8, 0));
}

TEST(PackingGptq, SymmetricZeroIsStoredMinusOne)
{
    // Symmetric 4-bit: zero 2^(4-1) = 8 is stored as 7 in every nibble.
    const qs::GptqPacked p4 = qs::gptq_pack(blank(8, 8, 4, 8, 8));
    EXPECT_EQ(p4.qzeros, std::vector<std::int32_t>{0x77777777});
    // Symmetric 8-bit over 4 outputs: 128 stored as 127 = 0x7F.
    const qs::GptqPacked p8 = qs::gptq_pack(blank(4, 4, 8, 4, 128));
    EXPECT_EQ(p8.qzeros, std::vector<std::int32_t>{0x7F7F7F7F});
    // Symmetric 2-bit over 16 outputs: 2 stored as 1 = 0b01.
    const qs::GptqPacked p2 = qs::gptq_pack(blank(16, 16, 2, 16, 2));
    EXPECT_EQ(p2.qzeros, std::vector<std::int32_t>{0x55555555});
    // And reading back adds the one again.
    EXPECT_EQ(qs::gptq_unpack(p4, 8).zeros, std::vector<std::int32_t>(8, 8));
}

TEST(PackingGptq, V2StoresZerosWithoutOffset)
{
    IntQuantizedLinear q = blank(8, 8, 4, 8, 0);
    for (int o = 0; o < 8; ++o)
        q.zeros[o] = o;  // zero 0 included
    const qs::GptqPacked p = qs::gptq_pack(q, qs::GptqZeroFormat::V2);
    EXPECT_EQ(p.qzeros, std::vector<std::int32_t>{0x76543210});
    EXPECT_EQ(qs::gptq_unpack(p, 8).zeros, q.zeros);
    EXPECT_THROW(qs::gptq_pack(q), QsError);  // v1 cannot hold zero 0
    q.zeros[0] = 1;
    EXPECT_EQ(qs::gptq_pack(q).qzeros, std::vector<std::int32_t>{0x65432100});  // v1: zero - 1
}

TEST(PackingGptq, TwoAndEightBitWords)
{
    IntQuantizedLinear q2 = blank(16, 16, 2, 16, 1);
    for (int i = 0; i < 16; ++i)
        q2.codes[i] = i % 4;                                    // output 0: 0,1,2,3,0,1,2,3,...
    EXPECT_EQ(qs::gptq_pack(q2).qweight[0], word(0xE4E4E4E4));  // 0b11'10'01'00 per byte

    IntQuantizedLinear q8 = blank(4, 4, 8, 4, 1);
    q8.codes[0] = 0x01;
    q8.codes[1] = 0x02;
    q8.codes[2] = 0x03;
    q8.codes[3] = 0xFF;
    EXPECT_EQ(qs::gptq_pack(q8).qweight[0], word(0xFF030201));
}

TEST(PackingGptq, ThreeBitCodesStraddleWords)
{
    // 32 input codes of output 0 go into 3 words: code 10 straddles words 0/1, code 21 words 1/2.
    IntQuantizedLinear q = blank(32, 32, 3, 32, 1);
    q.codes[0 * 32 + 0] = 3;   // word 0 bits 0-2
    q.codes[0 * 32 + 10] = 5;  // 0b101: bits 0-1 -> word 0 bits 30-31, bit 2 -> word 1 bit 0
    q.codes[0 * 32 + 11] = 7;  // word 1 bits 1-3
    q.codes[0 * 32 + 21] = 6;  // 0b110: bit 0 -> word 1 bit 31, bits 1-2 -> word 2 bits 0-1
    q.codes[0 * 32 + 31] = 4;  // word 2 bits 29-31
    const qs::GptqPacked p = qs::gptq_pack(q);
    EXPECT_EQ(p.qweight_shape(), (std::vector<std::int64_t>{3, 32}));
    EXPECT_EQ(p.qweight[0 * 32], word(0x40000003));
    EXPECT_EQ(p.qweight[1 * 32], word(0x0000000F));
    EXPECT_EQ(p.qweight[2 * 32], word(0x80000003));
    EXPECT_EQ(p.qweight[1], 0);  // output 1 is all zero codes
    EXPECT_EQ(p.qzeros_shape(), (std::vector<std::int64_t>{1, 3}));
    EXPECT_EQ(qs::gptq_unpack(p, 32).codes, q.codes);
}

TEST(PackingGptq, RoundTripEveryBitWidthWithActOrder)
{
    for (int bits : {2, 3, 4, 8}) {
        for (bool act_order : {false, true}) {
            SCOPED_TRACE("bits " + std::to_string(bits) + (act_order ? " act-order" : ""));
            const IntQuantizedLinear q = random_linear(64, 96, bits, 32, act_order, 7 + bits);
            const qs::GptqPacked p = qs::gptq_pack(q);
            EXPECT_EQ(p.qweight.size(), std::size_t(96 * bits / 32 * 64));
            EXPECT_EQ(p.qzeros.size(), std::size_t(3 * 64 * bits / 32));
            EXPECT_EQ(p.g_idx, q.full_g_idx());  // act-order g_idx kept as is
            expect_same_linear(qs::gptq_unpack(p, 32), q);
            EXPECT_EQ(qs::gptq_dequantize(p), q.dequantize());
            const qs::GptqPacked v2 = qs::gptq_pack(q, qs::GptqZeroFormat::V2);
            EXPECT_EQ(v2.qweight, p.qweight);
            expect_same_linear(qs::gptq_unpack(v2, 32), q);
        }
    }
}

TEST(PackingGptq, DequantizeIsScaleTimesCodeMinusZero)
{
    IntQuantizedLinear q = blank(8, 8, 4, 8, 1);
    q.codes[0] = 3;
    q.scales[0] = kHalfHalf;  // output 0
    const auto w = qs::gptq_dequantize(qs::gptq_pack(q));
    EXPECT_EQ(w[0], 1.0f);   // 0.5 * (3 - 1)
    EXPECT_EQ(w[1], -0.5f);  // 0.5 * (0 - 1)
    EXPECT_EQ(w[8], -1.0f);  // output 1: 1.0 * (0 - 1)
}

TEST(PackingGptq, Refusals)
{
    EXPECT_THROW(qs::gptq_pack(blank(8, 8, 5, 8, 1)), QsError);     // 5 bits: no layout
    EXPECT_THROW(qs::gptq_pack(blank(8, 12, 4, 4, 1)), QsError);    // 12 inputs: 1.5 words
    EXPECT_THROW(qs::gptq_pack(blank(4, 8, 4, 8, 1)), QsError);     // 4 outputs: half a zero word
    EXPECT_THROW(qs::gptq_pack(blank(32, 16, 3, 16, 1)), QsError);  // 3 bits need 32 inputs
    EXPECT_THROW(qs::gptq_pack(blank(8, 8, 4, 8, 0)), QsError);     // zero 0: no v1 encoding
    IntQuantizedLinear out_of_range = blank(8, 8, 4, 8, 1);
    out_of_range.codes[5] = 16;
    EXPECT_THROW(qs::gptq_pack(out_of_range), QsError);
    IntQuantizedLinear bad_g_idx = blank(8, 8, 4, 4, 1);
    bad_g_idx.g_idx.assign(8, 2);  // only groups 0 and 1 exist
    EXPECT_THROW(qs::gptq_pack(bad_g_idx), QsError);
    IntQuantizedLinear short_scales = blank(8, 8, 4, 8, 1);
    short_scales.scales.pop_back();
    EXPECT_THROW(qs::gptq_pack(short_scales), QsError);
    qs::GptqPacked p = qs::gptq_pack(blank(8, 8, 4, 8, 1));
    EXPECT_THROW(qs::gptq_unpack(p, 4), QsError);  // group size 4 would mean 2 groups
    p.qweight.pop_back();
    EXPECT_THROW(qs::gptq_unpack(p, 8), QsError);
}

// ---------------------------------------------------------------- AWQ GEMM

TEST(PackingAwq, InterleavedNibblesAlongTheOutputDimension)
{
    // W [8 out, 2 in]; output o has code o (and o + 8 at input 1), zero o.
    IntQuantizedLinear q = blank(8, 2, 4, 2, 0);
    for (int o = 0; o < 8; ++o) {
        q.codes[o * 2 + 0] = o;
        q.codes[o * 2 + 1] = o + 8;
        q.zeros[o] = o;
    }
    const qs::AwqPacked p = qs::awq_pack(q);
    EXPECT_EQ(p.qweight_shape(), (std::vector<std::int64_t>{2, 1}));
    // Nibble k holds output kAwqOrder[k] = 0,2,4,6,1,3,5,7.
    EXPECT_EQ(p.qweight[0], 0x75316420);
    EXPECT_EQ(p.qweight[1], word(0xFDB9ECA8));
    // Zeros: same interleave, no -1 offset (zero 0 is representable here).
    EXPECT_EQ(p.qzeros_shape(), (std::vector<std::int64_t>{1, 1}));
    EXPECT_EQ(p.qzeros, std::vector<std::int32_t>{0x75316420});
    EXPECT_EQ(p.scales_shape(), (std::vector<std::int64_t>{1, 8}));
    EXPECT_EQ(qs::kAwqOrder, (std::array<int, 8>{0, 2, 4, 6, 1, 3, 5, 7}));
}

TEST(PackingAwq, RoundTripAndDequantize)
{
    IntQuantizedLinear q = random_linear(64, 128, 4, 32, false, 11);
    q.zeros[3] = 0;  // AWQ stores zero 0 as is
    const qs::AwqPacked p = qs::awq_pack(q);
    EXPECT_EQ(p.qweight.size(), std::size_t(128 * 64 / 8));
    EXPECT_EQ(p.qzeros.size(), std::size_t(4 * 64 / 8));
    expect_same_linear(qs::awq_unpack(p), q);
    EXPECT_EQ(qs::awq_dequantize(p), q.dequantize());
}

TEST(PackingAwq, Refusals)
{
    EXPECT_THROW(qs::awq_pack(blank(8, 8, 3, 8, 1)), QsError);  // 4 bits only
    EXPECT_THROW(qs::awq_pack(blank(8, 8, 8, 8, 1)), QsError);
    EXPECT_THROW(qs::awq_pack(blank(12, 8, 4, 8, 1)), QsError);  // 12 outputs: 1.5 words
    EXPECT_THROW(qs::awq_pack(blank(8, 12, 4, 8, 1)), QsError);  // partial last group
    EXPECT_THROW(qs::awq_pack(random_linear(8, 16, 4, 4, true, 3)), QsError);  // act-order
    IntQuantizedLinear bad_zero = blank(8, 8, 4, 8, 1);
    bad_zero.zeros[0] = 16;
    EXPECT_THROW(qs::awq_pack(bad_zero), QsError);
}

// ---------------------------------------------------------------- compressed-tensors

TEST(PackingCompressedTensors, PackedAlongTheInputWithPadding)
{
    // W [2 out, 10 in] 4-bit: row 0 codes 0..9 -> words 0x76543210 and 0x98 (padded).
    IntQuantizedLinear q = blank(2, 10, 4, 10, 8);
    for (int i = 0; i < 10; ++i)
        q.codes[i] = i;
    const qs::CompressedTensorsPacked p = qs::compressed_tensors_pack(q, true);
    EXPECT_EQ(p.weight_packed_shape(), (std::vector<std::int64_t>{2, 2}));
    EXPECT_EQ(p.weight_packed, (std::vector<std::int32_t>{0x76543210, 0x98, 0, 0}));
    EXPECT_TRUE(p.weight_zero_point.empty());  // symmetric: no zero point tensor
    EXPECT_TRUE(p.weight_g_idx.empty());
    EXPECT_EQ(p.weight_scale_shape(), (std::vector<std::int64_t>{2, 1}));
    EXPECT_EQ(p.weight_shape, (std::array<std::int64_t, 2>{2, 10}));
}

TEST(PackingCompressedTensors, StoredFieldIsSignedCodePlusOffset)
{
    // pack_to_int32's docstring: 8-bit signed [1, 2] -> [129, 130] -> 33409. Our unsigned codes
    // are those shifted values already.
    IntQuantizedLinear q = blank(1, 2, 8, 2, 128);
    q.codes = {129, 130};
    const qs::CompressedTensorsPacked p = qs::compressed_tensors_pack(q, true);
    EXPECT_EQ(p.weight_packed, std::vector<std::int32_t>{33409});
}

TEST(PackingCompressedTensors, AsymmetricZeroPointPackedAlongTheOutput)
{
    // W [3 out, 8 in], 2 groups; zeros (output, group) = (o + 1, o + 4) -> column words
    // 0x321 (group 0) and 0x654 (group 1), zero point tensor [1, 2].
    IntQuantizedLinear q = blank(3, 8, 4, 4, 0);
    for (int o = 0; o < 3; ++o) {
        q.zeros[o * 2 + 0] = o + 1;
        q.zeros[o * 2 + 1] = o + 4;
    }
    const qs::CompressedTensorsPacked p = qs::compressed_tensors_pack(q, false);
    EXPECT_EQ(p.weight_zero_point_shape(), (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(p.weight_zero_point, (std::vector<std::int32_t>{0x321, 0x654}));
    const auto back = qs::compressed_tensors_unpack(p, 4);
    EXPECT_EQ(back.zeros, q.zeros);
}

TEST(PackingCompressedTensors, RoundTripFourAndEightBits)
{
    for (int bits : {4, 8}) {
        for (bool act_order : {false, true}) {
            SCOPED_TRACE("bits " + std::to_string(bits) + (act_order ? " act-order" : ""));
            IntQuantizedLinear q = random_linear(37, 100, bits, 32, act_order, 5 + bits);
            const auto asym = qs::compressed_tensors_pack(q, false);
            EXPECT_EQ(asym.weight_packed.size(), std::size_t(37 * ((100 * bits + 31) / 32)));
            EXPECT_EQ(asym.weight_zero_point.size(), std::size_t((37 * bits + 31) / 32 * 4));
            EXPECT_EQ(asym.weight_g_idx.empty(), !act_order);
            expect_same_linear(qs::compressed_tensors_unpack(asym, 32), q);

            q.zeros.assign(q.zeros.size(), 1 << (bits - 1));
            const auto sym = qs::compressed_tensors_pack(q, true);
            expect_same_linear(qs::compressed_tensors_unpack(sym, 32), q);
        }
    }
}

TEST(PackingCompressedTensors, Refusals)
{
    EXPECT_THROW(qs::compressed_tensors_pack(blank(2, 8, 2, 8, 2), true), QsError);  // 2 bits
    EXPECT_THROW(qs::compressed_tensors_pack(blank(2, 8, 3, 8, 4), true), QsError);
    EXPECT_THROW(qs::compressed_tensors_pack(blank(2, 8, 4, 8, 7), true), QsError);  // sym zero 8
    IntQuantizedLinear bad = blank(2, 8, 4, 8, 3);
    bad.codes[1] = -1;
    EXPECT_THROW(qs::compressed_tensors_pack(bad, false), QsError);
    const auto p = qs::compressed_tensors_pack(blank(2, 8, 4, 4, 3), false);
    EXPECT_THROW(qs::compressed_tensors_unpack(p, 8), QsError);  // 1 group, 2 stored
}

TEST(PackingMxfp4, NibblePairsAndBiasedScaleBytes)
{
    // W [1, 32]: elements 0.5, -1, 6, -0, then zeros; block exponent -3.
    std::vector<float> elements(32, 0.0f);
    elements[0] = 0.5f;
    elements[1] = -1.0f;
    elements[2] = 6.0f;
    elements[3] = -0.0f;
    const qs::Mxfp4Packed p = qs::mxfp4_pack(elements, {-3}, 1, 32);
    EXPECT_EQ(p.weight_packed_shape(), (std::vector<std::int64_t>{1, 16}));
    EXPECT_EQ(p.weight_scale_shape(), (std::vector<std::int64_t>{1, 1}));
    EXPECT_EQ(p.weight_packed[0], 0xA1);  // low nibble 0.5 = 0001, high -1 = 1010
    EXPECT_EQ(p.weight_packed[1], 0x87);  // low 6 = 0111, high -0 = 1000
    EXPECT_EQ(p.weight_packed[2], 0x00);
    EXPECT_EQ(p.weight_scale[0], 122);  // 127 + (-3) - 2
    const auto w = qs::mxfp4_dequantize(p);
    EXPECT_EQ(w[0], 0.0625f);
    EXPECT_EQ(w[1], -0.125f);
    EXPECT_EQ(w[2], 0.75f);
    EXPECT_EQ(qs::e2m1_code(-0.0f), 8);
    EXPECT_EQ(qs::e2m1_value(0xF), -6.0f);
}

TEST(PackingMxfp4, RoundTripAndRefusals)
{
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> code(0, 15), exponent(-20, 20);
    std::vector<float> elements(4 * 64);
    std::vector<std::int32_t> exponents(4 * 2);
    for (auto& e : elements)
        e = qs::e2m1_value(static_cast<std::uint8_t>(code(rng)));
    for (auto& e : exponents)
        e = exponent(rng);
    const qs::Mxfp4Packed p = qs::mxfp4_pack(elements, exponents, 4, 64);
    const qs::Mxfp4Unpacked u = qs::mxfp4_unpack(p);
    EXPECT_EQ(u.shared_exponents, exponents);
    for (std::size_t i = 0; i < elements.size(); ++i) {
        EXPECT_EQ(u.elements[i], elements[i]) << i;
        EXPECT_EQ(std::signbit(u.elements[i]), std::signbit(elements[i])) << i;
    }

    // An all-zero block whose exponent (the engine's -127 floor) has no byte stores byte 0.
    std::vector<float> zeros(32, 0.0f);
    EXPECT_EQ(qs::mxfp4_pack(zeros, {-127}, 1, 32).weight_scale[0], 0);
    std::vector<float> one = zeros;
    one[5] = 1.0f;
    EXPECT_THROW(qs::mxfp4_pack(one, {-127}, 1, 32), QsError);  // nonzero: scale unstorable
    EXPECT_THROW(qs::mxfp4_pack(one, {128}, 1, 32), QsError);   // NaN block
    one[5] = 0.7f;
    EXPECT_THROW(qs::mxfp4_pack(one, {0}, 1, 32), QsError);  // off the E2M1 grid
    EXPECT_THROW(qs::mxfp4_pack(std::vector<float>(16, 0.0f), {0}, 1, 16), QsError);  // in % 32
}

}  // namespace
