// Dispatch from a QuantFormat to the quantizers; see fake_quantize.h for the conventions.
#include "core/quant/fake_quantize.h"

#include <algorithm>

#include "core/kernels/fused_quant.h"
#include "core/quant/fp8_quantizer.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"

namespace qs {
namespace {

torch::Tensor as_rows(const torch::Tensor& x)
{
    const std::int64_t n = x.dim() == 0 ? 1 : x.size(-1);
    return x.to(torch::kFloat32).reshape({-1, n});
}

// Row-wise AWQ/SmoothQuant parameters of rows [T, n] and the fake-quantized rows.
torch::Tensor activation_rows_dynamic(const torch::Tensor& rows, int bits, bool symmetric)
{
    return int_quantize_dequantize(rows, awq_find_params(rows, bits, symmetric));
}

torch::Tensor int_activation(const torch::Tensor& x, const QuantFormat& f,
                             const torch::Tensor& static_scale)
{
    auto x32 = x.to(torch::kFloat32);
    if (static_scale.defined()) {
        const double half = double(1 << (f.bits - 1));
        auto s = static_scale.to(x32.device(), torch::kFloat32);
        return torch::clamp(torch::round(x32 / s), -half, half - 1) * s;
    }
    switch (f.granularity) {
        case Granularity::Tensor:
            return activation_rows_dynamic(x32.reshape({1, -1}), f.bits, f.symmetric)
                .reshape(x.sizes());
        case Granularity::Token:
        case Granularity::Channel:
            // One pass per token (core/kernels/fused_quant.h), bit for bit the
            // activation_rows_dynamic of every row (tests/core/test_fused_quant.cpp).
            return kernels::int_activation_fake_quantize_fused(x32, f.bits, f.symmetric, 0,
                                                               fp16_scales_enabled());
        case Granularity::Group:
            if (f.group_size <= 0)
                throw QsError("activation quantizer: group size must be positive");
            return kernels::int_activation_fake_quantize_fused(x32, f.bits, f.symmetric,
                                                               f.group_size, fp16_scales_enabled());
    }
    return x32;
}

}  // namespace

torch::Tensor fake_quantize_weight(const torch::Tensor& w, const QuantFormat& f)
{
    if (f.kind == FormatKind::None || w.numel() == 0) return w;
    torch::Tensor out;
    switch (f.kind) {
        case FormatKind::Int: {
            if (f.granularity == Granularity::Token)
                throw QsError("weight format " + f.name() +
                              ": per-token granularity applies to activations only");
            if (f.granularity == Granularity::Tensor) {
                out = int_fake_quantize_groups(w.to(torch::kFloat32).reshape({1, -1}), f.bits,
                                               f.symmetric, 0, f.mse);
            } else {
                const int group = f.granularity == Granularity::Group ? f.group_size : 0;
                out = int_fake_quantize_groups(as_rows(w), f.bits, f.symmetric, group, f.mse);
            }
            out = out.reshape(w.sizes());
            break;
        }
        case FormatKind::Mx:
            out =
                mx_quantize_dequantize(w.to(torch::kFloat32), f.element, f.block_size, f.rounding);
            break;
        case FormatKind::Fp8:
            out = fp8_fake_quantize(w, f.fp8, f.granularity != Granularity::Tensor);
            break;
        case FormatKind::None:
            return w;
    }
    return out.to(w.scalar_type());
}

IntGroupQuantization int_quantize_weight(const torch::Tensor& w, const QuantFormat& f,
                                         bool awq_style)
{
    if (f.kind != FormatKind::Int || f.granularity == Granularity::Token || w.dim() != 2)
        throw QsError("weight format " + f.name() + ": no integer parameters for this weight");
    const auto rows = w.size(0);
    const bool whole = f.granularity == Granularity::Tensor;
    const int group = f.granularity == Granularity::Group ? f.group_size : 0;
    if (f.granularity == Granularity::Group && group <= 0)
        throw QsError("weight format " + f.name() + " needs a positive group size");
    auto x = whole ? w.to(torch::kFloat32).reshape({1, -1}) : w.to(torch::kFloat32);
    auto r = awq_style ? awq_quantize_groups(x, f.bits, f.symmetric, group)
                       : int_quantize_groups(x, f.bits, f.symmetric, group, f.mse);
    if (whole) {
        r.scales = r.scales.expand({rows, 1}).contiguous();
        r.zeros = r.zeros.expand({rows, 1}).contiguous();
    }
    r.weight = r.weight.reshape(w.sizes()).to(w.scalar_type());
    return r;
}

torch::Tensor fake_quantize_activation(const torch::Tensor& x, const QuantFormat& f,
                                       const torch::Tensor& static_scale)
{
    if (f.kind == FormatKind::None || x.numel() == 0) return x;
    torch::Tensor out;
    switch (f.kind) {
        case FormatKind::Int:
            out = int_activation(x, f, static_scale);
            break;
        case FormatKind::Mx:
            out =
                mx_quantize_dequantize(x.to(torch::kFloat32), f.element, f.block_size, f.rounding);
            break;
        case FormatKind::Fp8:
            out = static_scale.defined()
                      ? fp8_fake_quantize_with_scale(x, f.fp8, static_scale)
                      : fp8_fake_quantize(x, f.fp8, f.granularity != Granularity::Tensor);
            break;
        case FormatKind::None:
            return x;
    }
    return out.to(x.scalar_type());
}

}  // namespace qs
