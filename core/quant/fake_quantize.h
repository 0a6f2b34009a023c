// Fake quantization (quantize, then dequantize) of weights and activations to a QuantFormat.
// Computed in float32; the result has the input's dtype. FormatKind::None returns the input.
//
// Weights W [out, in] (rows = output channels, columns = input channels; other ranks are viewed
// as [-1, last dim]):
//   Int: GPTQ-reference quantizer (int_fake_quantize_groups): Channel = one range per row,
//        Group = per row and group_size columns, Tensor = one range for the whole tensor;
//        Token is rejected (a weight has no tokens).
//   Mx:  mx_quantize_dequantize, blocks along the input dimension (last axis).
//   Fp8: absmax scale per row (Channel) or per tensor (Tensor).
//
// Activations x [..., features] (rows = tokens):
//   Int, symmetric: SmoothQuant's absmax quantizer (fake_quant.py):
//        scale = absmax.clamp(min 1e-5) / (2^(b-1) - 1), q = round(x / scale), result q * scale;
//        absmax per token (Token, Channel), per token and group_size features (Group), or over
//        the whole tensor (Tensor). Codes are clamped to [-2^(b-1), 2^(b-1) - 1], a no-op for
//        dynamic scales.
//   Int, asymmetric: min/max per token (group, tensor) with a zero point, as AWQ's
//        pseudo-quantizer: scale = (max - min).clamp(1e-5) / (2^b - 1),
//        zero = clamp(-round(min / scale), 0, 2^b - 1).
//   Int with static_scale (a scalar, or a tensor broadcastable to x): the step is given,
//        codes are signed as above: clamp(round(x / s), -2^(b-1), 2^(b-1) - 1) * s.
//   Mx:  blocks along the features (last axis); a static scale does not apply.
//   Fp8: absmax scale per token, or per tensor (Tensor); static_scale is used as the scale.
#pragma once

#include <torch/types.h>

#include "core/quant/int_quantizer.h"
#include "core/quant/quant_format.h"

namespace qs {

torch::Tensor fake_quantize_weight(const torch::Tensor& w, const QuantFormat& f);

// An INT weight W [out, in] quantized as fake_quantize_weight does it (awq_style: as
// awq_fake_quantize, AWQ's pseudo-quantizer), bit for bit the same weight, with its parameters
// [out, groups] (int_quantizer.h IntGroupQuantization; a per-tensor scale is repeated on every
// row). Throws QsError for other kinds and per-token granularity.
IntGroupQuantization int_quantize_weight(const torch::Tensor& w, const QuantFormat& f,
                                         bool awq_style);

torch::Tensor fake_quantize_activation(const torch::Tensor& x, const QuantFormat& f,
                                       const torch::Tensor& static_scale = {});

}  // namespace qs
