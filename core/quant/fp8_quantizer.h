// FP8 fake quantization with an absmax scale (as FP8 weight/activation recipes of vLLM and
// TensorRT-LLM, with torch's float8 semantics; libtorch 1.13 has no float8 dtype, so values are
// rounded to the FP8 grid with float32 tensor ops):
//   E4M3 (torch float8_e4m3fn): bias 7, largest 448, no Inf, smallest subnormal 2^-9;
//   E5M2 (torch float8_e5m2):   bias 15, largest 57344, smallest subnormal 2^-16.
//   scale = absmax / fp8_max (one per tensor, or one per row of x viewed as [-1, n]: per output
//   channel for weights [out, in], per token for activations [..., features]); a group that is
//   all zero gets scale 1; result = fp8_round(x / scale) * scale.
// fp8_round: nearest FP8 value, ties to even, saturating (|v| > max and +-Inf -> +-max),
// subnormals kept, NaN stays NaN, the sign of zero kept.
#pragma once

#include <torch/types.h>

#include "core/quant/quant_format.h"

namespace qs {

// Largest finite value: 448 (E4M3), 57344 (E5M2).
float fp8_max(Fp8Variant variant);

// Rounds float values to the FP8 grid (no scaling); float32 result.
torch::Tensor fp8_round(const torch::Tensor& x, Fp8Variant variant);

// Scalar reference of fp8_round: decodes every FP8 code and picks the nearest (even code on ties).
float fp8_round_reference(float v, Fp8Variant variant);

// absmax-scaled fake quantization; per_row = false: one scale for the whole tensor.
// Float32 computation, result in x's dtype. CPU (and CUDA in a QS_CUDA build): the fused one-pass
// loop (core/kernels/fused_quant.h); other devices: the tensor ops below.
torch::Tensor fp8_fake_quantize(const torch::Tensor& x, Fp8Variant variant, bool per_row);
// The same with vectorised tensor ops on any device; the fused path must agree bit for bit.
torch::Tensor fp8_fake_quantize_tensor_ops(const torch::Tensor& x, Fp8Variant variant,
                                           bool per_row);

// As above with a given scale (a scalar or a tensor broadcastable to x), e.g. a static
// activation scale.
torch::Tensor fp8_fake_quantize_with_scale(const torch::Tensor& x, Fp8Variant variant,
                                           const torch::Tensor& scale);

}  // namespace qs
