// One decoder layer's forward pass, for every supported architecture. Hidden states are
// [B, T, hidden] on the layer's device in the compute dtype (compute_dtype.h: float32, bfloat16
// or float16; the output has the input's dtype); weights come from LayerWeights so quantized
// weights can be substituted. Given a LayerKvCache, a layer runs only the new tokens: they sit
// after the cached ones (the context's positions must start at cache->length()), attend to the
// cached keys and values, and their own are appended (kv_cache.h). Without one (nullptr) the
// input is the whole sequence from position 0.
#pragma once

#include <torch/types.h>

#include "core/model/kv_cache.h"
#include "core/model/layer_weights.h"
#include "core/model/model_config.h"
#include "core/model/rope.h"

namespace qs {

// Per-sequence-length data shared by all layers of one forward pass.
struct LayerContext {
    RopeTables rope;  // Llama family only
};

// For `length` tokens at positions [first_position, first_position + length): 0 for a whole
// sequence, the cache's length for the new tokens of a cached step.
LayerContext make_layer_context(const ModelConfig& config, std::int64_t length,
                                const torch::Device& device, std::int64_t first_position = 0);

torch::Tensor decoder_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                    const torch::Tensor& hidden, const LayerContext& context,
                                    LayerKvCache* cache = nullptr);

// Architecture-specific forwards (decoder_layer_forward dispatches on config.arch).
torch::Tensor llama_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                  const torch::Tensor& hidden, const LayerContext& context,
                                  LayerKvCache* cache = nullptr);
torch::Tensor opt_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                const torch::Tensor& hidden, LayerKvCache* cache = nullptr);

// The two residual branches, on already-normalised input (AWQ inspects them on their own).
torch::Tensor llama_attention_block(const ModelConfig& config, const LayerWeights& weights,
                                    const torch::Tensor& normed, const LayerContext& context,
                                    LayerKvCache* cache = nullptr);
torch::Tensor llama_mlp_block(const LayerWeights& weights, const torch::Tensor& normed);
torch::Tensor opt_attention_block(const ModelConfig& config, const LayerWeights& weights,
                                  const torch::Tensor& normed, LayerKvCache* cache = nullptr);
torch::Tensor opt_mlp_block(const LayerWeights& weights, const torch::Tensor& normed);

// RMSNorm as HF Llama: x * rsqrt(mean(x^2) + eps) * weight, the statistics in float32, the
// result in x's dtype.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);
// LayerNorm over the last dimension computed in float32, the result in x's dtype (weight and
// bias may be undefined).
torch::Tensor layer_norm_fp32(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, double eps);

}  // namespace qs
