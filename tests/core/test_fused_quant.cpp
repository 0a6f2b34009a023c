// The fused one-pass quantize-dequantize (core/kernels/fused_quant.h) against the vectorised
// torch implementations it replaces on the CPU, bit for bit (NaN positions equal), for every MX
// element and rounding, INT bits 2..8 sym/asym with groups and fp16 scales, INT activations per
// token and group, FP8 per tensor and per row; on normal data, huge outliers, zero rows,
// subnormals, exact ties and +-Inf/NaN. Plus the scalar helpers of quant_math.h against libm
// and c10::Half.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <c10/util/Half.h>
#include <gtest/gtest.h>

#include "core/kernels/fused_quant.h"
#include "core/kernels/quant_math.h"
#include "core/quant/fp8_quantizer.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"

namespace {

using qs::Fp8Variant;
using qs::MxElement;
using qs::Rounding;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::uint32_t bits_of(float v)
{
    std::uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

// Same shape, float32, every element the same bits or both NaN.
void expect_same_bits(const torch::Tensor& fused, const torch::Tensor& reference,
                      const std::string& what)
{
    ASSERT_EQ(fused.sizes(), reference.sizes()) << what;
    ASSERT_EQ(fused.scalar_type(), reference.scalar_type()) << what;
    auto a = fused.to(torch::kFloat32).contiguous();
    auto b = reference.to(torch::kFloat32).contiguous();
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const bool same = std::isnan(pa[i]) ? std::isnan(pb[i]) : bits_of(pa[i]) == bits_of(pb[i]);
        if (!same) {
            ADD_FAILURE() << what << ": element " << i << " fused " << pa[i] << " (0x" << std::hex
                          << bits_of(pa[i]) << ") reference " << pb[i] << " (0x" << bits_of(pb[i])
                          << std::dec << ")";
            return;
        }
    }
}

// The data sets every format is tried on, [rows, cols] float32.
enum class Data { Normal, Outliers, ZeroRows, Subnormal, Ties, InfNaN };
const Data kAllData[] = {Data::Normal,    Data::Outliers, Data::ZeroRows,
                         Data::Subnormal, Data::Ties,     Data::InfNaN};

const char* data_name(Data d)
{
    switch (d) {
        case Data::Normal:
            return "normal";
        case Data::Outliers:
            return "outliers";
        case Data::ZeroRows:
            return "zero rows";
        case Data::Subnormal:
            return "subnormals";
        case Data::Ties:
            return "ties";
        case Data::InfNaN:
            return "inf/nan";
    }
    return "?";
}

// Ties: per row, a step 2^-j; element 0 is `anchor` steps and element 1 is 0 (so an INT range
// [0, anchor * step] with anchor = maxq has exactly that step), the rest (k + 0.5) steps with k in
// [-ties_below, anchor): exact halves for INT codes, MX elements and FP8 spacings alike.
torch::Tensor make_data(Data kind, std::int64_t rows, std::int64_t cols, std::uint64_t seed,
                        float anchor = 15.0f, int ties_below = 0)
{
    torch::manual_seed(seed);
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    auto x = torch::randn({rows, cols});
    float* p = x.data_ptr<float>();
    auto at = [&](std::int64_t r, std::int64_t c) -> float& { return p[r * cols + c]; };
    switch (kind) {
        case Data::Normal:
            break;
        case Data::Outliers:
            for (std::int64_t r = 0; r < rows; ++r) {
                at(r, rng() % cols) *= 1e4f;
                if (r % 3 == 0) at(r, rng() % cols) = (r % 2 ? -1.0f : 1.0f) * 3.0e38f;
                if (r % 4 == 1) at(r, rng() % cols) = 1e30f;
            }
            break;
        case Data::ZeroRows:
            for (std::int64_t r = 0; r < rows; r += 2)
                for (std::int64_t c = 0; c < cols; ++c)
                    at(r, c) = (c % 3 == 0 && r % 4 == 2) ? -0.0f : 0.0f;
            break;
        case Data::Subnormal:
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < cols; ++c) {
                    // Odd rows entirely subnormal, even rows a normal value among them.
                    if (r % 2 == 1 || c % 5 != 0) at(r, c) *= 1e-39f;
                    if (r % 4 == 3 && c % 7 == 0) at(r, c) = std::ldexp(1.0f, -149);
                }
            break;
        case Data::Ties: {
            std::uniform_int_distribution<int> step_exp(-12, 4);
            const int top = static_cast<int>(anchor);
            std::uniform_int_distribution<int> code(-ties_below, std::max(top - 1, -ties_below));
            for (std::int64_t r = 0; r < rows; ++r) {
                const float step = std::ldexp(1.0f, step_exp(rng));
                for (std::int64_t c = 0; c < cols; ++c)
                    at(r, c) = (float(code(rng)) + 0.5f) * step;
                at(r, 0) = anchor * step;
                if (cols > 1) at(r, 1) = 0.0f;
            }
            break;
        }
        case Data::InfNaN:
            for (std::int64_t r = 0; r < rows; r += 2) {
                const float special = r % 6 == 0 ? kInf : (r % 6 == 2 ? -kInf : kNaN);
                at(r, rng() % cols) = special;
            }
            break;
    }
    return x;
}

// Ties inside groups: the anchor pattern repeated at the start of every group of `group` columns.
torch::Tensor make_group_ties(std::int64_t rows, std::int64_t cols, std::int64_t group,
                              std::uint64_t seed, float anchor, int ties_below)
{
    auto x = make_data(Data::Ties, rows, cols, seed, anchor, ties_below);
    for (std::int64_t c0 = group; c0 < cols; c0 += group) {
        x.select(1, c0).copy_(x.select(1, 0));
        if (c0 + 1 < cols) x.select(1, c0 + 1).zero_();
    }
    return x;
}

// --- scalar helpers ----------------------------------------------------------------------

TEST(FusedQuantMath, FloorLog2MatchesDoubleLog2RoundedToFloat)
{
    // Every exponent: the top 600 mantissas of the binade (where float32 rounding of log2 can
    // reach the next integer), the bottom 50, and random ones; plus subnormals.
    std::mt19937 rng(7);
    std::vector<float> values;
    for (std::uint32_t biased = 1; biased < 255; ++biased) {
        for (std::uint32_t m = 0; m < 50; ++m)
            values.push_back(qs::kernels::bits_float((biased << 23) | m));
        for (std::uint32_t m = 0x800000u - 600; m < 0x800000u; ++m)
            values.push_back(qs::kernels::bits_float((biased << 23) | m));
        for (int i = 0; i < 50; ++i)
            values.push_back(qs::kernels::bits_float((biased << 23) | (rng() & 0x7fffffu)));
    }
    for (int i = 0; i < 2000; ++i)
        values.push_back(qs::kernels::bits_float(rng() & 0x7fffffu));
    int rounded_up = 0;
    for (float v : values) {
        const float expected = std::floor(static_cast<float>(std::log2(double(v))));
        ASSERT_EQ(qs::kernels::floor_log2_f32(v), expected) << "v = " << v;
        if (expected > std::floor(std::log2(double(v)))) ++rounded_up;
    }
    EXPECT_GT(rounded_up, 1000);  // the float32 rounding case is really exercised
    EXPECT_TRUE(std::isnan(qs::kernels::floor_log2_f32(kNaN)));
    EXPECT_EQ(qs::kernels::floor_log2_f32(kInf), kInf);
    EXPECT_EQ(qs::kernels::floor_log2_f32(0.0f), -kInf);
}

TEST(FusedQuantMath, RoundToFp16MatchesHalfConversion)
{
    std::mt19937 rng(11);
    std::vector<float> values = {0.0f,
                                 -0.0f,
                                 65504.0f,
                                 65519.0f,
                                 65520.0f,
                                 1e6f,
                                 -1e6f,
                                 kInf,
                                 std::ldexp(1.0f, -24),
                                 std::ldexp(1.0f, -25),
                                 std::ldexp(3.0f, -26),
                                 std::ldexp(1.0f, -14)};
    for (int i = 0; i < 200000; ++i) {
        // Exponents around the fp16 range, all mantissas.
        const std::uint32_t biased = 127 - 30 + rng() % 50;
        values.push_back(
            qs::kernels::bits_float((rng() & 0x80000000u) | (biased << 23) | (rng() & 0x7fffffu)));
    }
    for (float v : values) {
        const float expected = static_cast<float>(c10::Half(v));
        ASSERT_EQ(bits_of(qs::kernels::round_to_fp16(v)), bits_of(expected)) << "v = " << v;
    }
    EXPECT_TRUE(std::isnan(qs::kernels::round_to_fp16(kNaN)));
}

TEST(FusedQuantMath, RoundingHelpersMatchLibm)
{
    std::mt19937 rng(3);
    for (int i = 0; i < 200000; ++i) {
        float v = qs::kernels::bits_float(rng());
        if (i % 2) v = std::ldexp(float(int(rng() % 4001) - 2000), -int(rng() % 4));  // .5, .25
        if (std::isnan(v)) continue;
        ASSERT_EQ(bits_of(qs::kernels::round_half_even(v)), bits_of(std::nearbyint(v))) << v;
        ASSERT_EQ(bits_of(qs::kernels::floor_f(v)), bits_of(std::floor(v))) << v;
    }
}

// --- MX ----------------------------------------------------------------------------------

const MxElement kAllElements[] = {MxElement::Int8,    MxElement::Int6,    MxElement::Int4,
                                  MxElement::Int3,    MxElement::Int2,    MxElement::Fp8E4M3,
                                  MxElement::Fp8E5M2, MxElement::Fp6E3M2, MxElement::Fp6E2M3,
                                  MxElement::Fp4E2M1};

TEST(FusedQuantMx, MatchesTensorOpsForEveryElementRoundingAndBlock)
{
    struct Shape {
        std::int64_t cols;
        int block;
    };
    // Whole blocks of 32 and 16, a partial last block of 32, an odd partial block of 16.
    const Shape shapes[] = {{96, 32}, {64, 16}, {100, 32}, {37, 16}};
    std::uint64_t seed = 1;
    for (auto element : kAllElements)
        for (auto rounding : {Rounding::Nearest, Rounding::Even})
            for (const auto& s : shapes)
                for (auto data : kAllData) {
                    auto x = make_data(data, 6, s.cols, seed++, 15.0f, 16);
                    const auto what = "mx element " + std::to_string(int(element)) +
                                      (rounding == Rounding::Even ? " even" : " nearest") +
                                      " block " + std::to_string(s.block) + " cols " +
                                      std::to_string(s.cols) + " " + data_name(data);
                    expect_same_bits(
                        qs::kernels::mx_quantize_dequantize_fused(x, element, s.block, rounding),
                        qs::mx_quantize_dequantize_tensor_ops(x, element, s.block, rounding), what);
                }
}

TEST(FusedQuantMx, OtherRanksAndDtypesAndPublicEntry)
{
    auto x = make_data(Data::Outliers, 6, 70, 99).reshape({2, 3, 70});
    expect_same_bits(qs::kernels::mx_quantize_dequantize_fused(x, MxElement::Fp4E2M1, 32),
                     qs::mx_quantize_dequantize_tensor_ops(x, MxElement::Fp4E2M1, 32), "3-D");
    for (auto dtype : {torch::kBFloat16, torch::kHalf, torch::kFloat64}) {
        auto xd = x.to(dtype);
        auto fused = qs::kernels::mx_quantize_dequantize_fused(xd, MxElement::Int8, 32);
        EXPECT_EQ(fused.scalar_type(), dtype);
        expect_same_bits(fused, qs::mx_quantize_dequantize_tensor_ops(xd, MxElement::Int8, 32),
                         "dtype");
    }
    // The public function takes the fused path and still agrees; a big tensor runs in parallel.
    auto big = make_data(Data::Normal, 64, 4096, 5);
    expect_same_bits(
        qs::mx_quantize_dequantize(big, MxElement::Fp8E4M3, 32, Rounding::Even),
        qs::mx_quantize_dequantize_tensor_ops(big, MxElement::Fp8E4M3, 32, Rounding::Even),
        "public, parallel");
}

TEST(FusedQuantMx, BinadeTopsTakeTheFloat32RoundedLog2)
{
    // Values just below a power of two, (2 - m 2^-23) 2^k: float32(log2) rounds up to k + 1 for
    // many of them, in the shared exponent (large |k|) and in FP elements' private exponents.
    std::mt19937 rng(21);
    auto x = torch::empty({16, 64});
    float* p = x.data_ptr<float>();
    int rounded_up = 0;
    for (std::int64_t i = 0; i < x.numel(); ++i) {
        const int k = i % 64 == 0 ? int(rng() % 200) - 100 : int(rng() % 41) - 20;
        const float v = std::ldexp(2.0f - std::ldexp(float(1 + rng() % 8), -23), k);
        p[i] = rng() % 2 ? -v : v;
        if (std::floor(float(std::log2(double(v)))) > std::floor(std::log2(double(v))))
            ++rounded_up;
    }
    ASSERT_GT(rounded_up, 100);
    for (auto element : kAllElements)
        for (auto rounding : {Rounding::Nearest, Rounding::Even})
            for (int block : {16, 32})
                expect_same_bits(
                    qs::kernels::mx_quantize_dequantize_fused(x, element, block, rounding),
                    qs::mx_quantize_dequantize_tensor_ops(x, element, block, rounding),
                    "binade tops, element " + std::to_string(int(element)) + " block " +
                        std::to_string(block));
}

// --- INT weights -------------------------------------------------------------------------

torch::Tensor int_groups_reference(const torch::Tensor& w, int bits, bool symmetric, int group,
                                   bool fp16)
{
    qs::Fp16ScaleScope scope(fp16);
    return qs::int_fake_quantize_groups_tensor_ops(w, bits, symmetric, group);
}

// "int4 asym group 32 fp16 <data>": the INT case a failure names.
std::string int_case_name(int bits, bool symmetric, int group, bool fp16, Data data)
{
    return "int" + std::to_string(bits) + (symmetric ? " sym" : " asym") + " group " +
           std::to_string(group) + (fp16 ? " fp16" : "") + " " + data_name(data);
}

TEST(FusedQuantInt, WeightGroupsMatchTensorOps)
{
    // 300 columns: groups of 32 and 128 end with a partial group; 0 and 300 are per channel.
    const int groups[] = {32, 128, 0, 300};
    std::uint64_t seed = 1000;
    for (int bits = 2; bits <= 8; ++bits)
        for (bool symmetric : {false, true})
            for (int group : groups)
                for (bool fp16 : {false, true})
                    for (auto data : kAllData) {
                        const float maxq = float((1 << bits) - 1);
                        auto w =
                            data == Data::Ties
                                ? make_group_ties(5, 300, group > 0 ? group : 300, seed++, maxq, 0)
                                : make_data(data, 5, 300, seed++);
                        const auto what = int_case_name(bits, symmetric, group, fp16, data);
                        expect_same_bits(qs::kernels::int_fake_quantize_groups_fused(
                                             w, bits, symmetric, group, fp16),
                                         int_groups_reference(w, bits, symmetric, group, fp16),
                                         what);
                    }
}

TEST(FusedQuantInt, TieDataReallyHasTies)
{
    // Asymmetric INT4 per group of 32 on the tie data: scale 2^-j, so x / scale is k + 0.5.
    auto w = make_group_ties(4, 96, 32, 5, 15.0f, 0);
    auto params = qs::int_find_params(w.narrow(1, 0, 32), 4, false);
    auto ratio = w.narrow(1, 0, 32) / params.scale;
    auto ties = (ratio - ratio.floor() == 0.5).sum().item<std::int64_t>();
    EXPECT_GT(ties, 4 * 20);
    expect_same_bits(qs::int_fake_quantize_groups(w, 4, false, 32),
                     int_groups_reference(w, 4, false, 32, false), "public entry");
}

// --- INT activations ---------------------------------------------------------------------

// fake_quantize.cpp's torch path: awq_find_params per row (and column group).
torch::Tensor activation_reference(const torch::Tensor& x, int bits, bool symmetric, int group,
                                   bool fp16)
{
    qs::Fp16ScaleScope scope(fp16);
    auto rows = x.reshape({-1, x.size(-1)});
    const auto cols = rows.size(1);
    const std::int64_t g = group <= 0 ? cols : group;
    auto out = torch::empty_like(rows);
    for (std::int64_t c0 = 0; c0 < cols; c0 += g) {
        auto part = rows.narrow(1, c0, std::min(g, cols - c0));
        out.narrow(1, c0, part.size(1))
            .copy_(qs::int_quantize_dequantize(part, qs::awq_find_params(part, bits, symmetric)));
    }
    return out.reshape(x.sizes());
}

TEST(FusedQuantInt, ActivationsPerTokenAndGroupMatchTensorOps)
{
    std::uint64_t seed = 5000;
    for (int bits = 2; bits <= 8; ++bits)
        for (bool symmetric : {false, true})
            for (int group : {0, 64})
                for (bool fp16 : {false, true})
                    for (auto data : kAllData) {
                        const float half = float(1 << (bits - 1));
                        auto x = data != Data::Ties ? make_data(data, 6, 200, seed++)
                                 : symmetric ? make_group_ties(6, 200, group > 0 ? group : 200,
                                                               seed++, half - 1.0f, int(half) - 1)
                                             : make_group_ties(6, 200, group > 0 ? group : 200,
                                                               seed++, float((1 << bits) - 1), 0);
                        x = x.reshape({2, 3, 200});
                        const auto what =
                            "activation " + int_case_name(bits, symmetric, group, fp16, data);
                        expect_same_bits(qs::kernels::int_activation_fake_quantize_fused(
                                             x, bits, symmetric, group, fp16),
                                         activation_reference(x, bits, symmetric, group, fp16),
                                         what);
                    }
}

// --- FP8 ---------------------------------------------------------------------------------

TEST(FusedQuantFp8, MatchesTensorOpsPerTensorAndPerRow)
{
    std::uint64_t seed = 9000;
    for (auto variant : {Fp8Variant::E4M3, Fp8Variant::E5M2})
        for (bool per_row : {false, true})
            for (auto data : kAllData) {
                // Ties: a row max of fmax * 2^-j makes the scale 2^-j; E4M3 has 8 steps per
                // binade, so (k + 0.5) steps are FP8 midpoints.
                const float anchor = qs::fp8_max(variant);
                auto x = make_data(data, 7, 133, seed++, data == Data::Ties ? anchor : 15.0f,
                                   data == Data::Ties ? 300 : 0);
                const auto what = std::string(variant == Fp8Variant::E4M3 ? "e4m3" : "e5m2") +
                                  (per_row ? " per row " : " per tensor ") + data_name(data);
                expect_same_bits(qs::kernels::fp8_fake_quantize_fused(x, variant, per_row),
                                 qs::fp8_fake_quantize_tensor_ops(x, variant, per_row), what);
            }
    auto x = make_data(Data::Normal, 64, 4096, 17).to(torch::kBFloat16).reshape({4, 16, 4096});
    auto fused = qs::fp8_fake_quantize(x, Fp8Variant::E4M3, false);
    EXPECT_EQ(fused.scalar_type(), torch::kBFloat16);
    expect_same_bits(fused, qs::fp8_fake_quantize_tensor_ops(x, Fp8Variant::E4M3, false),
                     "public, bf16, parallel");
}

}  // namespace
