// Hooks into layer-by-layer quantization for analysis (core/analysis/experiment_analysis.h):
// the quantizer calls them at fixed points so statistics and errors can be gathered without the
// quantizer knowing about them. Every call happens on the quantizing thread; `inputs` are the
// layer's calibration inputs [n, T, hidden] the recipe works on.
#pragma once

#include <string>

#include <torch/types.h>

#include "core/model/decoder_layer.h"
#include "core/quant/layer_quantizer.h"

namespace qs {

class QuantizeObserver {
public:
    virtual ~QuantizeObserver() = default;
    // After a scaling transform folded into `weights` ("smoothquant", "awq"), before any
    // quantization of this layer.
    virtual void after_transform(int layer, const std::string& stage, LayerWeights& weights,
                                 const torch::Tensor& inputs, const LayerContext& context)
    {
    }
    // After the layer is done (`quantized` holds the dequantized weights and the activation
    // quantization; `original` the layer as loaded). Called for every layer, also those outside
    // the recipe's range (then `report` is empty and both weights are the same values).
    virtual void layer_done(int layer, LayerWeights& original, LayerWeights& quantized,
                            const LayerQuantReport& report, const torch::Tensor& inputs,
                            const LayerContext& context)
    {
    }
};

}  // namespace qs
