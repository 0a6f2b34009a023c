// Llama / Mistral / Qwen2 decoder layer (HF modeling_llama):
//   h = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))),  n1 = rms(x)
//   y = h + down_proj(silu(gate_proj(n2)) * up_proj(n2)),                   n2 = rms(h)
#include <cmath>

#include <torch/nn/functional/activation.h>

#include "core/model/attention.h"
#include "core/model/decoder_layer.h"

namespace qs {
namespace {

torch::Tensor linear(const LayerWeights& w, const std::string& module, const torch::Tensor& x)
{
    return torch::linear(x, w.get(module + ".weight"), w.get_optional(module + ".bias"));
}

torch::Tensor heads_view(const torch::Tensor& x, std::int64_t heads, std::int64_t dim)
{
    return x.view({x.size(0), x.size(1), heads, dim}).transpose(1, 2);  // [B, H, T, D]
}

}  // namespace

torch::Tensor llama_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                  const torch::Tensor& hidden, const LayerContext& context)
{
    const auto dim = config.head_dim;
    auto normed = rms_norm(hidden, weights.get("input_layernorm.weight"), config.norm_eps);
    auto q =
        apply_rope(heads_view(linear(weights, "self_attn.q_proj", normed), config.num_heads, dim),
                   context.rope);
    auto k = apply_rope(
        heads_view(linear(weights, "self_attn.k_proj", normed), config.num_kv_heads, dim),
        context.rope);
    auto v = heads_view(linear(weights, "self_attn.v_proj", normed), config.num_kv_heads, dim);
    auto attn = causal_attention(q, k, v, 1.0 / std::sqrt(double(dim)), config.sliding_window);
    auto h = hidden + linear(weights, "self_attn.o_proj", attn);

    normed = rms_norm(h, weights.get("post_attention_layernorm.weight"), config.norm_eps);
    auto gate = torch::silu(linear(weights, "mlp.gate_proj", normed));
    auto up = linear(weights, "mlp.up_proj", normed);
    return h + linear(weights, "mlp.down_proj", gate.mul_(up));
}

}  // namespace qs
