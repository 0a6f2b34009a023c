// SmoothQuant (Xiao et al. 2023; reference mit-han-lab/smoothquant smooth.py smooth_ln_fcs):
// per input channel j of the linears sharing one normalised input,
//   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha), clamped at 1e-5,
// where max|W_j| is taken over every output row of every linear of the group. The norm's weight
// (and bias) is divided by s and each linear's columns multiplied by s, so the layer computes
// the same function in full precision while activation outliers move into the weights.
// Groups: Llama-family input_layernorm -> q,k,v and post_attention_layernorm -> gate,up;
// OPT self_attn_layer_norm -> q,k,v and final_layer_norm -> fc1 (pre-LN models only).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/model/layer_weights.h"
#include "core/model/model_config.h"

namespace qs {

struct ScalingGroup {
    std::string norm;                  // module whose output feeds the linears ("" for fc->fc)
    std::string previous_linear;       // AWQ fc->fc folding (e.g. v_proj -> o_proj), else ""
    std::vector<std::string> linears;  // modules sharing the input
};

// The norm->linears groups SmoothQuant smooths for this architecture (empty for post-LN OPT).
std::vector<ScalingGroup> smoothquant_groups(const ModelConfig& config);

// act_absmax: per module, max |x| per input channel over the calibration tokens [in].
// Returns the scales applied per group (keyed by the group's first linear).
std::map<std::string, torch::Tensor> smoothquant_apply(
    const ModelConfig& config, LayerWeights& weights,
    const std::map<std::string, torch::Tensor>& act_absmax, double alpha);

// Divides a norm (weight and bias) by s and multiplies the linears' input columns by s.
void fold_scales_into_norm(LayerWeights& weights, const std::string& norm,
                           const std::vector<std::string>& linears, const torch::Tensor& s);

}  // namespace qs
