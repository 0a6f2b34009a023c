// FP8 rounding and absmax fake quantization: hand-worked values, and the tensor rounding
// against the scalar reference that enumerates every FP8 code.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/quant/fp8_quantizer.h"

namespace {

using qs::Fp8Variant;

float round_one(float v, Fp8Variant variant)
{
    return qs::fp8_round(torch::tensor({v}), variant)[0].item<float>();
}

TEST(Fp8, E4M3HandWorkedValues)
{
    const auto v = Fp8Variant::E4M3;
    EXPECT_EQ(qs::fp8_max(v), 448.0f);
    EXPECT_EQ(round_one(1.0f, v), 1.0f);
    EXPECT_EQ(round_one(1.0625f, v), 1.0f);   // tie between 1.0 and 1.125: even mantissa 000
    EXPECT_EQ(round_one(1.1875f, v), 1.25f);  // tie between 1.125 and 1.25: even mantissa 010
    EXPECT_EQ(round_one(1.07f, v), 1.125f);
    EXPECT_EQ(round_one(-1.0625f, v), -1.0f);
    EXPECT_EQ(round_one(449.0f, v), 448.0f);  // saturates
    EXPECT_EQ(round_one(470.0f, v), 448.0f);  // would round to 480, which E4M3 does not have
    EXPECT_EQ(round_one(1e30f, v), 448.0f);
    EXPECT_EQ(round_one(-std::numeric_limits<float>::infinity(), v), -448.0f);
    EXPECT_EQ(round_one(416.0f, v), 416.0f);  // 1.101 * 2^8
    EXPECT_EQ(round_one(432.0f, v), 448.0f);  // tie 416/448 -> even mantissa 110
    // Subnormals: step 2^-9 below 2^-6.
    EXPECT_EQ(round_one(std::ldexp(1.0f, -9), v), std::ldexp(1.0f, -9));
    EXPECT_EQ(round_one(std::ldexp(1.0f, -10), v), 0.0f);  // tie 0 / 2^-9 -> 0
    EXPECT_EQ(round_one(std::ldexp(1.5f, -10), v), std::ldexp(1.0f, -9));
    EXPECT_EQ(round_one(std::ldexp(3.0f, -10), v), std::ldexp(2.0f, -9));  // tie 1/2 -> 2
    EXPECT_EQ(round_one(std::ldexp(7.0f, -9), v), std::ldexp(7.0f, -9));   // largest subnormal
    EXPECT_EQ(round_one(std::ldexp(1.0f, -6), v), std::ldexp(1.0f, -6));   // smallest normal
    EXPECT_TRUE(std::signbit(round_one(-1e-9f, v)));
    EXPECT_TRUE(std::isnan(round_one(NAN, v)));
}

TEST(Fp8, E5M2HandWorkedValues)
{
    const auto v = Fp8Variant::E5M2;
    EXPECT_EQ(qs::fp8_max(v), 57344.0f);
    EXPECT_EQ(round_one(1.125f, v), 1.0f);  // tie 1.0 / 1.25 -> even
    EXPECT_EQ(round_one(1.375f, v), 1.5f);  // tie 1.25 / 1.5 -> even mantissa 10
    EXPECT_EQ(round_one(57344.0f, v), 57344.0f);
    EXPECT_EQ(round_one(60000.0f, v), 57344.0f);
    EXPECT_EQ(round_one(std::ldexp(1.0f, -16), v), std::ldexp(1.0f, -16));
    EXPECT_EQ(round_one(std::ldexp(1.0f, -17), v), 0.0f);
    EXPECT_EQ(round_one(std::ldexp(3.0f, -17), v), std::ldexp(2.0f, -16));
}

TEST(Fp8, TensorRoundingMatchesScalarReference)
{
    torch::manual_seed(3);
    auto x = torch::randn({4096}) *
             torch::pow(2.0f, torch::randint(-20, 18, {4096}).to(torch::kFloat32));
    // Exact midpoints between FP8 neighbours at several binades.
    auto ties = (torch::randint(0, 64, {512}).to(torch::kFloat32) + 0.5f) *
                torch::pow(2.0f, torch::randint(-18, 12, {512}).to(torch::kFloat32));
    x = torch::cat(
        {x, ties, -ties, torch::tensor({0.0f, -0.0f, 448.0f, 464.0f, 57344.0f, 61440.0f})});
    for (auto variant : {Fp8Variant::E4M3, Fp8Variant::E5M2}) {
        auto fast = qs::fp8_round(x, variant).contiguous();
        int mismatches = 0;
        for (std::int64_t i = 0; i < x.numel(); ++i) {
            const float in = x[i].item<float>();
            const float want = qs::fp8_round_reference(in, variant);
            const float got = fast[i].item<float>();
            if (want != got || std::signbit(want) != std::signbit(got)) {
                if (mismatches++ < 5)
                    ADD_FAILURE() << "variant " << int(variant) << " x " << in << ": expected "
                                  << want << ", got " << got;
            }
        }
        EXPECT_EQ(mismatches, 0);
    }
}

TEST(Fp8, AbsmaxScalePerRowAndPerTensor)
{
    auto w = torch::tensor({{1.0f, -2.0f, 448.0f * 0.5f}, {0.0f, 0.0f, 0.0f}, {3.0f, 1.0f, 0.1f}});
    // Per row: row max maps to 448 exactly; an all-zero row stays zero.
    auto q = qs::fp8_fake_quantize(w, Fp8Variant::E4M3, true);
    EXPECT_FLOAT_EQ(q[0][2].item<float>(), 224.0f);
    EXPECT_FLOAT_EQ(q[0][0].item<float>(), 1.0f);  // 1 / 0.5 = 2 is on the grid
    EXPECT_EQ(q[1].abs().sum().item<float>(), 0.0f);
    EXPECT_FLOAT_EQ(q[2][0].item<float>(), 3.0f);
    // 0.1 / (3/448) = 14.93 -> 15 (E4M3 step 1 in [8, 16)) -> 15 * 3 / 448.
    EXPECT_FLOAT_EQ(q[2][2].item<float>(), 15.0f * 3.0f / 448.0f);
    // Per tensor: one scale 224 / 448 = 0.5.
    auto t = qs::fp8_fake_quantize(w, Fp8Variant::E4M3, false);
    EXPECT_FLOAT_EQ(t[2][2].item<float>(), 0.1015625f);  // 0.2 -> 0.203125 (step 1/64) * 0.5
    EXPECT_FALSE(torch::isnan(t).any().item<bool>());
    // Half precision in, half precision out.
    auto h = qs::fp8_fake_quantize(w.to(torch::kFloat16), Fp8Variant::E5M2, true);
    EXPECT_EQ(h.scalar_type(), torch::kFloat16);
    EXPECT_EQ(h.sizes(), w.sizes());
}

TEST(Fp8, ErrorIsBoundedByHalfAStep)
{
    torch::manual_seed(5);
    auto x = torch::randn({64, 256});
    for (auto variant : {Fp8Variant::E4M3, Fp8Variant::E5M2}) {
        auto q = qs::fp8_fake_quantize(x, variant, true);
        const int mantissa_bits = variant == Fp8Variant::E4M3 ? 3 : 2;
        // Normal range: relative error at most 2^-(m+1).
        auto rel = ((q - x).abs() / x.abs()).masked_select(x.abs() > 0.1);
        EXPECT_LE(rel.max().item<float>(), std::ldexp(1.0f, -(mantissa_bits + 1)) * 1.0001f);
    }
}

}  // namespace
