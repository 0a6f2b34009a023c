#include "core/quant/smoothquant.h"

#include "core/util/error.h"

namespace qs {

std::vector<ScalingGroup> smoothquant_groups(const ModelConfig& config)
{
    if (config.arch == Architecture::Opt) {
        if (!config.do_layer_norm_before) return {};  // post-LN: no norm right before the linears
        return {{"self_attn_layer_norm",
                 "",
                 {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
                {"final_layer_norm", "", {"fc1"}}};
    }
    return {{"input_layernorm", "", {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
            {"post_attention_layernorm", "", {"mlp.gate_proj", "mlp.up_proj"}}};
}

void fold_scales_into_norm(LayerWeights& weights, const std::string& norm,
                           const std::vector<std::string>& linears, const torch::Tensor& s)
{
    weights.set(norm + ".weight", weights.get(norm + ".weight") / s);
    if (auto bias = weights.get_optional(norm + ".bias"); bias.defined())
        weights.set(norm + ".bias", bias / s);
    for (const auto& linear : linears)
        weights.set(linear + ".weight", weights.get(linear + ".weight") * s.unsqueeze(0));
}

std::map<std::string, torch::Tensor> smoothquant_apply(
    const ModelConfig& config, LayerWeights& weights,
    const std::map<std::string, torch::Tensor>& act_absmax, double alpha)
{
    std::map<std::string, torch::Tensor> applied;
    for (const auto& group : smoothquant_groups(config)) {
        auto it = act_absmax.find(group.linears.front());
        if (it == act_absmax.end())
            throw QsError("smoothquant: no activation statistics for " + group.linears.front());
        torch::Tensor w_max;
        for (const auto& linear : group.linears) {
            auto col_max = std::get<0>(weights.get(linear + ".weight").abs().max(0));
            w_max = w_max.defined() ? torch::maximum(w_max, col_max) : col_max;
        }
        // smooth.py: weight maxima clamped at 1e-5, scales = act^a / w^(1-a) clamped at 1e-5.
        auto s = (it->second.pow(alpha) / w_max.clamp_min(1e-5).pow(1.0 - alpha)).clamp_min(1e-5);
        fold_scales_into_norm(weights, group.norm, group.linears, s);
        applied[group.linears.front()] = s;
    }
    return applied;
}

}  // namespace qs
