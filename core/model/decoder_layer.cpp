#include "core/model/decoder_layer.h"

namespace qs {

LayerContext make_layer_context(const ModelConfig& config, std::int64_t length,
                                const torch::Device& device)
{
    LayerContext context;
    if (config.arch == Architecture::Llama) context.rope = rope_tables(config, length, device);
    return context;
}

torch::Tensor decoder_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                    const torch::Tensor& hidden, const LayerContext& context)
{
    if (config.arch == Architecture::Opt) return opt_layer_forward(config, weights, hidden);
    return llama_layer_forward(config, weights, hidden, context);
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps)
{
    auto variance = x.pow(2).mean(-1, /*keepdim=*/true);
    return x * torch::rsqrt(variance + eps) * weight;
}

}  // namespace qs
