// Llama / Mistral / Qwen2 decoder layer (HF modeling_llama):
//   h = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))),  n1 = rms(x)
//   y = h + down_proj(silu(gate_proj(n2)) * up_proj(n2)),                   n2 = rms(h)
#include <cmath>
#include <tuple>

#include "core/model/attention.h"
#include "core/model/compute_dtype.h"
#include "core/model/decoder_layer.h"

namespace qs {
namespace {

torch::Tensor heads_view(const torch::Tensor& x, std::int64_t heads, std::int64_t dim)
{
    return x.view({x.size(0), x.size(1), heads, dim}).transpose(1, 2);  // [B, H, T, D]
}

}  // namespace

torch::Tensor llama_attention_block(const ModelConfig& config, const LayerWeights& weights,
                                    const torch::Tensor& normed, const LayerContext& context,
                                    LayerKvCache* cache)
{
    const auto dim = config.head_dim;
    auto q = heads_view(weights.apply_linear("self_attn.q_proj", normed), config.num_heads, dim);
    auto k = heads_view(weights.apply_linear("self_attn.k_proj", normed), config.num_kv_heads, dim);
    auto v = heads_view(weights.apply_linear("self_attn.v_proj", normed), config.num_kv_heads, dim);
    q = apply_rope(q, context.rope);
    k = apply_rope(k, context.rope);  // cached after RoPE: a key keeps its position's rotation
    if (cache) std::tie(k, v) = cache->append(k, v);
    auto attn = causal_attention(q, k, v, 1.0 / std::sqrt(double(dim)), config.sliding_window);
    return weights.apply_linear("self_attn.o_proj", attn);
}

torch::Tensor llama_mlp_block(const LayerWeights& weights, const torch::Tensor& normed)
{
    auto gate = dtype_silu(weights.apply_linear("mlp.gate_proj", normed));
    auto up = weights.apply_linear("mlp.up_proj", normed);
    return weights.apply_linear("mlp.down_proj", gate.mul_(up));
}

torch::Tensor llama_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                  const torch::Tensor& hidden, const LayerContext& context,
                                  LayerKvCache* cache)
{
    auto normed = rms_norm(hidden, weights.get("input_layernorm.weight"), config.norm_eps);
    auto h = hidden + llama_attention_block(config, weights, normed, context, cache);
    normed = rms_norm(h, weights.get("post_attention_layernorm.weight"), config.norm_eps);
    return h + llama_mlp_block(weights, normed);
}

}  // namespace qs
