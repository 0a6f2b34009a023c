// Sizes come from shapes alone (ModelInfo reads no tensor bytes), so the session can show the
// size of a recipe before it runs.
#include "core/analysis/model_size.h"

namespace qs {
namespace {

constexpr std::int64_t kUnquantizedBits = 16;

}  // namespace

ModelSize model_size(const ModelInfo& info, const Recipe& recipe)
{
    const int layers = static_cast<int>(info.layers.size());

    ModelSize size;
    size.parameters = info.total_parameters;
    std::int64_t quantized_parameters = 0, quantized_bits = 0;
    for (const LayerInfo& layer : info.layers) {
        const bool quantized = recipe.quantizes_layer(layer.index, layers);
        for (const LinearInfo& linear : layer.linears) {
            const std::int64_t weights = linear.out_features * linear.in_features;
            const std::int64_t bits =
                quantized ? recipe.weights.storage_bits(linear.out_features, linear.in_features)
                          : weights * kUnquantizedBits;
            size.linear_parameters += weights;
            size.linear_bits += bits;
            if (quantized) {
                quantized_parameters += weights;
                quantized_bits += bits;
            }
        }
    }
    size.total_bits =
        (info.total_parameters - quantized_parameters) * kUnquantizedBits + quantized_bits;
    return size;
}

ModelSize model_size_fp16(const ModelInfo& info)
{
    ModelSize size;
    size.parameters = info.total_parameters;
    size.total_bits = info.total_parameters * kUnquantizedBits;
    for (const LayerInfo& layer : info.layers)
        for (const LinearInfo& linear : layer.linears)
            size.linear_parameters += linear.out_features * linear.in_features;
    size.linear_bits = size.linear_parameters * kUnquantizedBits;
    return size;
}

}  // namespace qs
