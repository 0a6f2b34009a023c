#include "core/model/decoder_layer.h"

namespace qs {

LayerContext make_layer_context(const ModelConfig& config, std::int64_t length,
                                const torch::Device& device, std::int64_t first_position)
{
    LayerContext context;
    if (config.arch == Architecture::Llama)
        context.rope = rope_tables(config, length, device, first_position);
    return context;
}

torch::Tensor decoder_layer_forward(const ModelConfig& config, const LayerWeights& weights,
                                    const torch::Tensor& hidden, const LayerContext& context,
                                    LayerKvCache* cache)
{
    if (config.arch == Architecture::Opt) return opt_layer_forward(config, weights, hidden, cache);
    return llama_layer_forward(config, weights, hidden, context, cache);
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps)
{
    // LlamaRMSNorm: the statistics in float32 (x^2 overflows float16 at |x| > 256), the result
    // rounded to x's dtype before the gain: weight * hidden.to(input_dtype).
    const auto dtype = x.scalar_type();
    auto hidden = x.to(torch::kFloat32);
    auto variance = hidden.pow(2).mean(-1, /*keepdim=*/true);
    auto normed = (hidden * torch::rsqrt(variance + eps)).to(dtype);
    return normed * (weight.scalar_type() == dtype ? weight : weight.to(dtype));
}

torch::Tensor layer_norm_fp32(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, double eps)
{
    // As the GPU's half-precision layer_norm: mean, variance, gain and bias in float32, the
    // result rounded to x's dtype.
    auto f32 = [](const torch::Tensor& t) { return t.defined() ? t.to(torch::kFloat32) : t; };
    return torch::layer_norm(f32(x), {x.size(-1)}, f32(weight), f32(bias), eps).to(x.scalar_type());
}

}  // namespace qs
