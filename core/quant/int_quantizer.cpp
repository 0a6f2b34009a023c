#include "core/quant/int_quantizer.h"

#include <cmath>
#include <limits>

#include "core/kernels/fused_quant.h"
#include "core/util/error.h"

namespace qs {
namespace {

thread_local bool t_fp16_scales = false;

void check_bits(int bits)
{
    if (bits < 1 || bits > 16)
        throw QsError("integer quantizer: bits must be 1..16, got " + std::to_string(bits));
}

// scale/zero from a per-row range [xmin, xmax] that already holds 0.
IntQuantParams params_from_range(torch::Tensor xmin, torch::Tensor xmax, int bits, bool symmetric)
{
    IntQuantParams p;
    p.bits = bits;
    const double maxq = p.maxq();
    if (symmetric) {
        xmax = torch::maximum(xmin.abs(), xmax);
        xmin = torch::where(xmin < 0, -xmax, xmin);
    }
    auto empty = (xmin == 0).logical_and(xmax == 0);
    xmin = torch::where(empty, torch::full_like(xmin, -1.0), xmin);
    xmax = torch::where(empty, torch::full_like(xmax, 1.0), xmax);
    p.scale = round_scale((xmax - xmin) / maxq);
    p.zero = symmetric ? torch::full_like(p.scale, (maxq + 1) / 2) : torch::round(-xmin / p.scale);
    return p;
}

// Quantizes the column groups of x [rows, cols] with params_of(group) -> IntQuantParams.
template <typename ParamsOf>
IntGroupQuantization quantize_column_groups(const torch::Tensor& w, int group_size,
                                            ParamsOf&& params_of)
{
    auto x = w.to(torch::kFloat32);
    const auto rows = x.size(0), cols = x.size(1);
    const std::int64_t g = group_size <= 0 || group_size >= cols ? cols : group_size;
    const auto groups = (cols + g - 1) / g;
    IntGroupQuantization out;
    out.weight = torch::empty_like(x);
    out.scales = torch::empty({rows, groups}, x.options());
    out.zeros = torch::empty({rows, groups}, x.options());
    for (std::int64_t k = 0; k < groups; ++k) {
        const auto c0 = k * g;
        auto part = x.slice(1, c0, std::min(cols, c0 + g));
        IntQuantParams p = params_of(part);
        auto dequantized = int_quantize_dequantize(part, p);
        // Signed codes give -0.0 for a negative value that rounds to 0; the packed layouts
        // store unsigned codes, whose scale * (q - zero) is +0.0: under fp16 scales (exports)
        // the weight is what they decode (x + 0 turns -0 into +0 and leaves the rest).
        if (p.signed_codes && fp16_scales_enabled()) dequantized = dequantized + 0.0;
        out.weight.slice(1, c0, c0 + part.size(1)).copy_(dequantized);
        // Signed codes (AWQ symmetric) in the unsigned convention: q + 2^(b-1), zero 2^(b-1).
        auto zero = p.signed_codes ? p.zero + double(1 << (p.bits - 1)) : p.zero;
        out.scales.select(1, k).copy_(p.scale.reshape({rows}));
        out.zeros.select(1, k).copy_(zero.reshape({rows}));
    }
    return out;
}

}  // namespace

Fp16ScaleScope::Fp16ScaleScope(bool enable) : m_previous(t_fp16_scales)
{
    t_fp16_scales = enable;
}

Fp16ScaleScope::~Fp16ScaleScope()
{
    t_fp16_scales = m_previous;
}

bool fp16_scales_enabled()
{
    return t_fp16_scales;
}

torch::Tensor round_scale(const torch::Tensor& scale)
{
    if (!t_fp16_scales) return scale;
    return scale.to(torch::kHalf).to(scale.scalar_type()).clamp_min(std::ldexp(1.0, -24));
}

IntQuantParams int_find_params(const torch::Tensor& x_in, int bits, bool symmetric, bool mse)
{
    check_bits(bits);
    auto x = x_in.to(torch::kFloat32);
    auto zeros = torch::zeros({x.size(0)}, x.options());
    auto xmin = torch::minimum(std::get<0>(x.min(1)), zeros);
    auto xmax = torch::maximum(std::get<0>(x.max(1)), zeros);
    IntQuantParams best = params_from_range(xmin, xmax, bits, symmetric);
    best.scale = best.scale.unsqueeze(1);
    best.zero = best.zero.unsqueeze(1);
    if (!mse) return best;

    // quant.py: grid 100, maxshrink 0.8, norm 2.4; candidates scale the original range.
    auto best_err = torch::full({x.size(0)}, std::numeric_limits<float>::infinity(), x.options());
    for (int i = 0; i < 80; ++i) {
        const double p = 1.0 - i / 100.0;
        auto xmin1 = p * xmin, xmax1 = p * xmax;
        IntQuantParams cand;
        cand.bits = bits;
        cand.scale = round_scale((xmax1 - xmin1) / best.maxq());
        cand.zero = symmetric ? best.zero.squeeze(1) : torch::round(-xmin1 / cand.scale);
        cand.scale = cand.scale.unsqueeze(1);
        cand.zero = cand.zero.unsqueeze(1);
        auto err = (int_quantize_dequantize(x, cand) - x).abs_().pow_(2.4).sum(1);
        auto better = err < best_err;
        best_err = torch::where(better, err, best_err);
        best.scale = torch::where(better.unsqueeze(1), cand.scale, best.scale);
        best.zero = torch::where(better.unsqueeze(1), cand.zero, best.zero);
    }
    return best;
}

IntQuantParams awq_find_params(const torch::Tensor& x_in, int bits, bool symmetric)
{
    check_bits(bits);
    auto x = x_in.to(torch::kFloat32);
    IntQuantParams p;
    p.bits = bits;
    if (symmetric) {
        // Signed codes: zero 0, q in [-2^(b-1), 2^(b-1) - 1] handled by int_quantize.
        auto absmax = std::get<0>(x.abs().max(1, true));
        p.scale = round_scale(absmax.clamp_min(1e-5) / double((1 << (bits - 1)) - 1));
        p.zero = torch::zeros_like(p.scale);
        p.signed_codes = true;
        return p;
    }
    auto mx = std::get<0>(x.max(1, true)), mn = std::get<0>(x.min(1, true));
    p.scale = round_scale((mx - mn).clamp_min(1e-5) / p.maxq());
    p.zero = torch::clamp(-torch::round(mn / p.scale), 0, p.maxq());
    return p;
}

torch::Tensor int_quantize(const torch::Tensor& x, const IntQuantParams& p)
{
    if (p.signed_codes) {
        const double half = double(1 << (p.bits - 1));
        return torch::clamp(torch::round(x / p.scale), -half, half - 1);
    }
    return torch::clamp(torch::round(x / p.scale) + p.zero, 0, p.maxq());
}

torch::Tensor int_dequantize(const torch::Tensor& q, const IntQuantParams& p)
{
    return p.scale * (q - p.zero);
}

torch::Tensor int_quantize_dequantize(const torch::Tensor& x, const IntQuantParams& p)
{
    return int_dequantize(int_quantize(x, p), p);
}

torch::Tensor int_fake_quantize_groups(const torch::Tensor& w, int bits, bool symmetric,
                                       int group_size, bool mse)
{
    if (mse) return int_fake_quantize_groups_tensor_ops(w, bits, symmetric, group_size, mse);
    return kernels::int_fake_quantize_groups_fused(w, bits, symmetric, group_size,
                                                   fp16_scales_enabled());
}

torch::Tensor int_fake_quantize_groups_tensor_ops(const torch::Tensor& w, int bits, bool symmetric,
                                                  int group_size, bool mse)
{
    return int_quantize_groups(w, bits, symmetric, group_size, mse).weight;
}

IntGroupQuantization int_quantize_groups(const torch::Tensor& w, int bits, bool symmetric,
                                         int group_size, bool mse)
{
    return quantize_column_groups(w, group_size, [&](const torch::Tensor& g) {
        return int_find_params(g, bits, symmetric, mse);
    });
}

IntGroupQuantization awq_quantize_groups(const torch::Tensor& w, int bits, bool symmetric,
                                         int group_size)
{
    return quantize_column_groups(
        w, group_size, [&](const torch::Tensor& g) { return awq_find_params(g, bits, symmetric); });
}

}  // namespace qs
