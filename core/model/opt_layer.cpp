// OPT decoder layer (HF modeling_opt). Pre-LN (do_layer_norm_before, all sizes but 350m):
//   h = x + out_proj(attn(n1)), n1 = ln1(x);  y = h + fc2(relu(fc1(ln2(h))))
// Post-LN (opt-350m): h = ln1(x + out_proj(attn(x)));  y = ln2(h + fc2(relu(fc1(h)))).
// q is scaled by head_dim^-0.5 after its bias, as HF does. LayerNorm computes in float32.
#include <cmath>
#include <tuple>

#include "core/model/attention.h"
#include "core/model/compute_dtype.h"
#include "core/model/decoder_layer.h"

namespace qs {
namespace {

torch::Tensor layer_norm(const LayerWeights& w, const std::string& module, const torch::Tensor& x,
                         double eps)
{
    return layer_norm_fp32(x, w.get_optional(module + ".weight"), w.get_optional(module + ".bias"),
                           eps);
}

torch::Tensor heads_view(const torch::Tensor& x, std::int64_t heads, std::int64_t dim)
{
    return x.view({x.size(0), x.size(1), heads, dim}).transpose(1, 2);
}

}  // namespace

torch::Tensor opt_attention_block(const ModelConfig& config, const LayerWeights& weights,
                                  const torch::Tensor& x, LayerKvCache* cache)
{
    const auto dim = config.head_dim;
    auto q =
        heads_view(weights.apply_linear("self_attn.q_proj", x) * (1.0 / std::sqrt(double(dim))),
                   config.num_heads, dim);
    auto k = heads_view(weights.apply_linear("self_attn.k_proj", x), config.num_heads, dim);
    auto v = heads_view(weights.apply_linear("self_attn.v_proj", x), config.num_heads, dim);
    if (cache) std::tie(k, v) = cache->append(k, v);
    return weights.apply_linear("self_attn.out_proj", causal_attention(q, k, v, 1.0));
}

torch::Tensor opt_mlp_block(const LayerWeights& weights, const torch::Tensor& x)
{
    return weights.apply_linear("fc2", dtype_relu(weights.apply_linear("fc1", x)));
}

torch::Tensor opt_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                const torch::Tensor& hidden, LayerKvCache* cache)
{
    const bool pre = config.do_layer_norm_before;
    const double eps = config.norm_eps;
    auto x = pre ? layer_norm(weights, "self_attn_layer_norm", hidden, eps) : hidden;
    auto h = hidden + opt_attention_block(config, weights, x, cache);
    if (!pre) h = layer_norm(weights, "self_attn_layer_norm", h, eps);
    x = pre ? layer_norm(weights, "final_layer_norm", h, eps) : h;
    auto y = h + opt_mlp_block(weights, x);
    if (!pre) y = layer_norm(weights, "final_layer_norm", y, eps);
    return y;
}

}  // namespace qs
