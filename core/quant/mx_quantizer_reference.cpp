// Scalar reference of MX fake quantization: one block, one float at a time, the float32
// operations of microxcaling `_quantize_mx` / `_quantize_elemwise_core` in their order.
// Kept deliberately plain; mx_quantizer.cpp is the vectorised path tested against it.
#include <cmath>
#include <limits>
#include <vector>

#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"

namespace qs {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// floor of log2(v) rounded to float32 (the reference's float32 torch.log2).
float floor_log2_f32(float v)
{
    return std::floor(static_cast<float>(std::log2(double(v))));
}

float pow2(float k)
{
    return std::isnan(k) ? kNaN : std::ldexp(1.0f, static_cast<int>(k));
}

float sign_of(float v)
{
    return static_cast<float>((0.0f < v) - (v < 0.0f));
}

float round_mantissa(float a, Rounding rounding)
{
    const float abs_a = std::fabs(a);
    float rounded = std::floor(abs_a + 0.5f);
    if (rounding == Rounding::Even && std::fmod(abs_a - 0.5f, 2.0f) == 0.0f) rounded -= 1.0f;
    return sign_of(a) * rounded;
}

// torch.clamp: NaN stays NaN, -0 stays -0.
float clamp_to(float v, float limit)
{
    if (std::isnan(v)) return v;
    if (v < -limit) return -limit;
    if (v > limit) return limit;
    return v;
}

float quantize_element(float a, const MxElementParams& p, Rounding rounding)
{
    const float lshift = std::ldexp(1.0f, p.mbits - 2);
    float out;
    if (p.ebits > 0) {
        float private_exp = floor_log2_f32(std::fabs(a) + (a == 0.0f ? 1.0f : 0.0f));
        if (private_exp < float(p.min_exp)) private_exp = float(p.min_exp);  // NaN stays NaN
        const float scale = pow2(private_exp);
        out = round_mantissa(a / scale * lshift, rounding) / lshift * scale;
    } else {
        out = round_mantissa(a * lshift, rounding) / lshift;
    }
    return clamp_to(out, p.max_norm);
}

}  // namespace

torch::Tensor mx_quantize_dequantize_reference(const torch::Tensor& x, MxElement element,
                                               int block_size, Rounding rounding)
{
    if (block_size <= 0) throw QsError("MX quantizer: block size must be positive");
    const auto p = mx_element_params(element);
    auto input = x.to(torch::kCPU, torch::kFloat32).contiguous();
    auto output = torch::empty_like(input);
    const std::int64_t n = input.dim() == 0 ? 1 : input.size(-1);
    const std::int64_t rows = n == 0 ? 0 : input.numel() / n;
    const float* in = input.data_ptr<float>();
    float* out = output.data_ptr<float>();

    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t b0 = 0; b0 < n; b0 += block_size) {
            const std::int64_t b1 = std::min<std::int64_t>(n, b0 + block_size);
            const float* v = in + r * n;
            float amax = 0.0f;
            bool has_nan = false;
            for (std::int64_t i = b0; i < b1; ++i) {
                if (std::isnan(v[i])) has_nan = true;
                amax = std::max(amax, std::fabs(v[i]));
            }
            float shared =
                has_nan ? kNaN : floor_log2_f32(amax + (amax == 0.0f ? 1.17549435e-38f : 0.0f));
            shared -= float(p.emax);
            if (shared > 127.0f) shared = kNaN;
            if (shared < -127.0f) shared = -127.0f;
            const float scale = pow2(shared);
            for (std::int64_t i = b0; i < b1; ++i)
                out[r * n + i] = quantize_element(v[i] / scale, p, rounding) * scale;
        }
    }
    return output.reshape(x.sizes());
}

}  // namespace qs
