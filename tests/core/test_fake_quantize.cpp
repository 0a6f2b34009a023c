// fake_quantize_weight / fake_quantize_activation: each format reaches the right quantizer
// with the right granularity; activations follow SmoothQuant's fake_quant.py.
#include <gtest/gtest.h>

#include "core/quant/fake_quantize.h"
#include "core/quant/fp8_quantizer.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"

namespace {

using qs::QuantFormat;

bool identical(const torch::Tensor& a, const torch::Tensor& b)
{
    return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && torch::equal(a, b);
}

torch::Tensor weight()
{
    torch::manual_seed(11);
    auto w = torch::randn({24, 200});
    w[3][7] = 9.0f;  // an outlier column entry
    return w;
}

TEST(FakeQuantize, NoneReturnsInput)
{
    auto w = weight();
    EXPECT_TRUE(identical(qs::fake_quantize_weight(w, QuantFormat::parse("none")), w));
    EXPECT_TRUE(identical(qs::fake_quantize_activation(w, QuantFormat::parse("fp32")), w));
}

TEST(FakeQuantize, IntWeightGranularities)
{
    auto w = weight();
    EXPECT_TRUE(identical(qs::fake_quantize_weight(w, QuantFormat::parse("int4-channel-asym")),
                          qs::int_fake_quantize_groups(w, 4, false, 0)));
    EXPECT_TRUE(identical(qs::fake_quantize_weight(w, QuantFormat::parse("int3-g64-sym")),
                          qs::int_fake_quantize_groups(w, 3, true, 64)));
    EXPECT_TRUE(identical(qs::fake_quantize_weight(w, QuantFormat::parse("int4-g32-asym-mse")),
                          qs::int_fake_quantize_groups(w, 4, false, 32, true)));
    // Per tensor: one grid of at most 2^b values for the whole matrix.
    auto t = qs::fake_quantize_weight(w, QuantFormat::parse("int4-tensor-asym"));
    EXPECT_EQ(t.sizes(), w.sizes());
    EXPECT_LE(std::get<0>(at::_unique(t)).numel(), 16);
    EXPECT_TRUE(identical(
        t, qs::int_fake_quantize_groups(w.reshape({1, -1}), 4, false, 0).reshape(w.sizes())));
    EXPECT_THROW(qs::fake_quantize_weight(w, QuantFormat::parse("int8-token-sym")), qs::QsError);
}

TEST(FakeQuantize, MxAndFp8Weights)
{
    auto w = weight();
    EXPECT_TRUE(identical(qs::fake_quantize_weight(w, QuantFormat::parse("mxint4-32")),
                          qs::mx_quantize_dequantize(w, qs::MxElement::Int4, 32)));
    EXPECT_TRUE(
        identical(qs::fake_quantize_weight(w, QuantFormat::parse("mxfp6-e2m3-16-even")),
                  qs::mx_quantize_dequantize(w, qs::MxElement::Fp6E2M3, 16, qs::Rounding::Even)));
    EXPECT_TRUE(identical(qs::fake_quantize_weight(w, QuantFormat::parse("fp8-e4m3-channel")),
                          qs::fp8_fake_quantize(w, qs::Fp8Variant::E4M3, true)));
    EXPECT_TRUE(identical(qs::fake_quantize_weight(w, QuantFormat::parse("fp8-e5m2-tensor")),
                          qs::fp8_fake_quantize(w, qs::Fp8Variant::E5M2, false)));
    // Dtype is kept.
    auto h = qs::fake_quantize_weight(w.to(torch::kFloat16), QuantFormat::parse("int4-g128-asym"));
    EXPECT_EQ(h.scalar_type(), torch::kFloat16);
}

// smoothquant/fake_quant.py, quantize_activation_per_token_absmax / per_tensor_absmax.
torch::Tensor smoothquant_per_token(const torch::Tensor& t, int bits)
{
    auto scales = t.abs().amax(-1, true).clamp_min(1e-5) / double((1 << (bits - 1)) - 1);
    return (t / scales).round() * scales;
}
torch::Tensor smoothquant_per_tensor(const torch::Tensor& t, int bits)
{
    auto scales = t.abs().max().clamp_min(1e-5) / double((1 << (bits - 1)) - 1);
    return (t / scales).round() * scales;
}

torch::Tensor activations()
{
    torch::manual_seed(12);
    auto x = torch::randn({2, 5, 64});
    x.select(2, 9).mul_(30.0f);  // an outlier channel, as in LLM activations
    x[1][2].zero_();             // an all-zero token
    return x;
}

TEST(FakeQuantize, IntActivationsFollowSmoothQuant)
{
    auto x = activations();
    auto per_token = qs::fake_quantize_activation(x, QuantFormat::parse("int8-token-sym"));
    EXPECT_TRUE(identical(per_token, smoothquant_per_token(x, 8)));
    EXPECT_TRUE(identical(qs::fake_quantize_activation(x, QuantFormat::parse("int4-channel-sym")),
                          smoothquant_per_token(x, 4)));
    EXPECT_TRUE(identical(qs::fake_quantize_activation(x, QuantFormat::parse("int8-tensor-sym")),
                          smoothquant_per_tensor(x, 8)));
    EXPECT_EQ(per_token[1][2].abs().sum().item<float>(), 0.0f);

    // Groups of features per token: each group its own absmax.
    auto grouped = qs::fake_quantize_activation(x, QuantFormat::parse("int8-g16-sym"));
    auto by_hand = smoothquant_per_token(x.reshape({2, 5, 4, 16}), 8).reshape(x.sizes());
    EXPECT_TRUE(identical(grouped, by_hand));
}

TEST(FakeQuantize, IntActivationsStaticAndAsymmetric)
{
    auto x = activations();
    // Static step: codes clamp at [-128, 127].
    auto s = torch::tensor(0.01f);
    auto q = qs::fake_quantize_activation(x, QuantFormat::parse("int8-tensor-sym"), s);
    EXPECT_TRUE(identical(q, torch::clamp(torch::round(x / s), -128, 127) * s));
    EXPECT_FLOAT_EQ(q.max().item<float>(), 127 * 0.01f);

    // Asymmetric per token: min/max range with a zero point, error at most half a step.
    auto a = qs::fake_quantize_activation(x, QuantFormat::parse("int4-token-asym"));
    auto rows = x.reshape({-1, 64});
    auto step = (rows.amax(1, true) - rows.amin(1, true)).clamp_min(1e-5) / 15.0;
    auto err = (a.reshape({-1, 64}) - rows).abs();
    EXPECT_TRUE((err <= step * 0.5001).all().item<bool>());
}

TEST(FakeQuantize, MxAndFp8Activations)
{
    auto x = activations();
    EXPECT_TRUE(identical(qs::fake_quantize_activation(x, QuantFormat::parse("mxint8-32")),
                          qs::mx_quantize_dequantize(x, qs::MxElement::Int8, 32)));
    EXPECT_TRUE(identical(qs::fake_quantize_activation(x, QuantFormat::parse("fp8-e4m3")),
                          qs::fp8_fake_quantize(x, qs::Fp8Variant::E4M3, true)));
    EXPECT_TRUE(identical(qs::fake_quantize_activation(x, QuantFormat::parse("fp8-e4m3-tensor")),
                          qs::fp8_fake_quantize(x, qs::Fp8Variant::E4M3, false)));
    auto s = torch::tensor(0.05f);
    EXPECT_TRUE(identical(qs::fake_quantize_activation(x, QuantFormat::parse("fp8-e5m2"), s),
                          qs::fp8_round(x / s, qs::Fp8Variant::E5M2) * s));
    auto h = qs::fake_quantize_activation(x.to(torch::kBFloat16), QuantFormat::parse("mxfp4-32"));
    EXPECT_EQ(h.scalar_type(), torch::kBFloat16);
    EXPECT_EQ(h.sizes(), x.sizes());
}

}  // namespace
