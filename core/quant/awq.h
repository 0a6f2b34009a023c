// AWQ (Lin et al. 2023) on one decoder layer, as the reference llm-awq (auto_scale.py,
// auto_clip.py) does it: activation-aware scale search per group of linears sharing an input,
// the scales folded into the preceding norm or linear, then the clip search. Works for INT
// (AWQ's own pseudo-quantizer, awq_find_params) and MX weight formats.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

#include "core/model/decoder_layer.h"
#include "core/quant/quant_format.h"
#include "core/quant/recipe.h"

namespace qs {

class Feedback;

struct AwqLayerReport {
    std::map<std::string, double> best_ratio;       // per group (first linear): chosen r
    std::map<std::string, torch::Tensor> scales;    // per group: applied s [in]
    std::map<std::string, torch::Tensor> clip_max;  // per linear: [out, groups] clip values
};

// Transforms `weights` in place (scales folded, weights clipped; NOT quantized: the caller
// quantizes afterwards). layer_inputs: the layer's input hidden states [n, T, hidden] on the
// calibration windows.
AwqLayerReport awq_apply(const ModelConfig& config, LayerWeights& weights,
                         const torch::Tensor& layer_inputs, const LayerContext& context,
                         const QuantFormat& format, const AwqSettings& settings,
                         Feedback* feedback = nullptr);

// Fake quantization as AWQ's search uses it: INT via awq_find_params per (row, group), MX via
// mx_quantize_dequantize; other formats via fake_quantize_weight.
torch::Tensor awq_fake_quantize(const torch::Tensor& w, const QuantFormat& format);

}  // namespace qs
