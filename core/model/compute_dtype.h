// The dtype the model forward computes in (float32, bfloat16 or float16), following what Hugging
// Face transformers does for Llama/OPT in half precision: weights are cast to the compute dtype,
// the residual stream and the linears' outputs stay in it, while RMSNorm/LayerNorm, the rotary
// tables, the attention softmax and the logits are computed in float32 (decoder_layer.cpp,
// rope.cpp, attention.cpp, causal_lm.cpp).
//
// The ops below take the dtype from their input activation x: weights of another dtype (the
// float32 master weights quantize_model keeps) are cast to it, so a layer holding float32 weights
// runs in x's dtype. Matrix products accumulate in float32 as the GPU's half-precision GEMMs do.
// libtorch's CPU kernels have no float16 matmul/silu/relu (1.13), so on the CPU float16 runs
// them in float32 on the float16 values and rounds the result to float16: the same numbers a
// float16 GEMM with float32 accumulation produces, up to the order of the sums.
#pragma once

#include <string>

#include <torch/types.h>

namespace qs {

// "fp32" / "f32" / "float32", "bf16" / "bfloat16", "fp16" / "f16" / "float16" / "half" (f32 and
// f16 as synth's storage --dtype spells them). Throws QsError
// "compute dtype expects fp32, bf16 or fp16, got '<name>'" for anything else.
torch::ScalarType parse_compute_dtype(const std::string& name);
// "fp32", "bf16" or "fp16" (the names parse_compute_dtype reads).
std::string compute_dtype_name(torch::ScalarType dtype);

// y = x W^T + b in x's dtype (W and b cast to it when they differ).
torch::Tensor dtype_linear(const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias = {});
// Batched products in the dtype of `a` (attention scores and probs x values).
torch::Tensor dtype_bmm(const torch::Tensor& a, const torch::Tensor& b);
torch::Tensor dtype_baddbmm(const torch::Tensor& add, const torch::Tensor& a,
                            const torch::Tensor& b);
torch::Tensor dtype_silu(const torch::Tensor& x);
torch::Tensor dtype_relu(const torch::Tensor& x);

}  // namespace qs
