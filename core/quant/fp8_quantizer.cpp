// Rounding to the FP8 grid: the spacing of FP8 values around |v| is 2^(e - mantissa_bits) with
// e = max(floor(log2 |v|), min normal exponent), so round(|v| / spacing) * spacing (torch::round
// is half to even, which on the grid is the even mantissa) lands on the nearest FP8 value.
// Saturating first (|v| clamped to max) keeps every rounded value inside the format.
#include "core/quant/fp8_quantizer.h"

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "core/kernels/fused_quant.h"

namespace qs {
namespace {

struct Fp8Params {
    int mantissa_bits;
    int bias;
    int min_normal_exp;  // 1 - bias
    float max;
};

Fp8Params fp8_params(Fp8Variant variant)
{
    if (variant == Fp8Variant::E4M3) return {3, 7, -6, 448.0f};
    return {2, 15, -14, 57344.0f};
}

// Every non-negative finite FP8 value, ordered by code (so value order too).
std::vector<float> fp8_positive_values(Fp8Variant variant)
{
    const auto p = fp8_params(variant);
    std::vector<float> values;
    for (int code = 0; code < (1 << 7); ++code) {
        const int e = code >> p.mantissa_bits;
        const int m = code & ((1 << p.mantissa_bits) - 1);
        const float frac = float(m) / float(1 << p.mantissa_bits);
        const float v =
            e == 0 ? std::ldexp(frac, p.min_normal_exp) : std::ldexp(1.0f + frac, e - p.bias);
        if (v > p.max) break;  // E4M3: 0x7F is NaN; E5M2: exponent 31 is Inf/NaN
        values.push_back(v);
    }
    return values;
}

// 2^e for integer-valued float e in [-126, 127], exact (built from the float32 exponent field).
torch::Tensor exact_pow2(const torch::Tensor& e)
{
    return ((e.to(torch::kInt32) + 127) * (1 << 23)).view(torch::kFloat32);
}

torch::Tensor safe_scale(const torch::Tensor& absmax, float fmax)
{
    auto scale = absmax / fmax;
    return torch::where(absmax == 0, torch::ones_like(scale), scale);
}

}  // namespace

float fp8_max(Fp8Variant variant)
{
    return fp8_params(variant).max;
}

torch::Tensor fp8_round(const torch::Tensor& x, Fp8Variant variant)
{
    const auto p = fp8_params(variant);
    auto v = x.to(torch::kFloat32);
    auto magnitude = v.abs().clamp_max(p.max);  // NaN stays NaN
    auto exponent = std::get<1>(torch::frexp(magnitude)).to(torch::kFloat32) - 1.0f;
    exponent = exponent.clamp_min(float(p.min_normal_exp));
    auto spacing = exact_pow2(exponent - float(p.mantissa_bits));
    auto rounded = torch::round(magnitude / spacing) * spacing;
    return torch::copysign(rounded, v);
}

float fp8_round_reference(float v, Fp8Variant variant)
{
    if (std::isnan(v)) return v;
    static const std::vector<float> e4m3 = fp8_positive_values(Fp8Variant::E4M3);
    static const std::vector<float> e5m2 = fp8_positive_values(Fp8Variant::E5M2);
    const auto& grid = variant == Fp8Variant::E4M3 ? e4m3 : e5m2;
    const float a = std::fabs(v);
    std::size_t best = 0;
    for (std::size_t i = 1; i < grid.size(); ++i) {
        const double d_best = std::fabs(double(grid[best]) - a);
        const double d = std::fabs(double(grid[i]) - a);
        // Ties go to the even code (even mantissa).
        if (d < d_best || (d == d_best && i % 2 == 0)) best = i;
    }
    return std::copysign(grid[best], v);
}

torch::Tensor fp8_fake_quantize_with_scale(const torch::Tensor& x, Fp8Variant variant,
                                           const torch::Tensor& scale)
{
    auto x32 = x.to(torch::kFloat32);
    auto s = scale.to(x32.device(), torch::kFloat32);
    auto out = fp8_round(x32 / s, variant) * s;
    return out.to(x.scalar_type());
}

torch::Tensor fp8_fake_quantize(const torch::Tensor& x, Fp8Variant variant, bool per_row)
{
    return kernels::fp8_fake_quantize_fused(x, variant, per_row);
}

torch::Tensor fp8_fake_quantize_tensor_ops(const torch::Tensor& x, Fp8Variant variant, bool per_row)
{
    if (x.numel() == 0) return x.clone();
    auto x32 = x.to(torch::kFloat32);
    const float fmax = fp8_max(variant);
    if (!per_row)
        return fp8_fake_quantize_with_scale(x, variant, safe_scale(x32.abs().amax(), fmax));
    const std::int64_t n = x32.dim() == 0 ? 1 : x32.size(-1);
    auto rows = x32.reshape({-1, n});
    auto scale = safe_scale(rows.abs().amax(1, true), fmax);
    return fp8_fake_quantize_with_scale(rows, variant, scale)
        .reshape(x.sizes())
        .to(x.scalar_type());
}

}  // namespace qs
