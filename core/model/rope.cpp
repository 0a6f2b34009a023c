#include "core/model/rope.h"

#include <cmath>

namespace qs {

torch::Tensor rope_inverse_frequencies(const ModelConfig& config)
{
    const auto dim = config.head_dim;
    auto exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / double(dim);
    auto inv_freq = 1.0 / torch::pow(torch::tensor(config.rope_theta, torch::kFloat32), exponents);
    const RopeScaling& s = config.rope_scaling;
    if (s.type == "linear") return inv_freq / s.factor;
    if (s.type != "llama3") return inv_freq;
    // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, the band between
    // them interpolated (transformers' _compute_llama3_parameters).
    const double old_context = double(s.original_max_position_embeddings);
    const double low_wavelen = old_context / s.low_freq_factor;
    const double high_wavelen = old_context / s.high_freq_factor;
    auto wavelen = 2.0 * M_PI / inv_freq;
    auto scaled = torch::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
    auto smooth =
        (old_context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    auto smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    return torch::where(medium, smoothed, scaled);
}

RopeTables rope_tables(const ModelConfig& config, std::int64_t length, const torch::Device& device,
                       std::int64_t first_position)
{
    auto inv_freq = rope_inverse_frequencies(config);
    auto positions = torch::arange(first_position, first_position + length, torch::kFloat32);
    auto freqs = torch::outer(positions, inv_freq);
    auto emb = torch::cat({freqs, freqs}, -1);
    return {emb.cos().to(device), emb.sin().to(device)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& tables)
{
    const auto half = x.size(-1) / 2;
    auto x1 = x.narrow(-1, 0, half);
    auto x2 = x.narrow(-1, half, half);
    auto rotated = torch::cat({-x2, x1}, -1);
    // The tables are computed in float32 and cast to x's dtype, as HF's rotary embedding does
    // (cos.to(dtype=x.dtype)): q and k are rotated in the compute dtype.
    const auto dtype = x.scalar_type();
    if (tables.cos.scalar_type() == dtype) return x * tables.cos + rotated * tables.sin;
    return x * tables.cos.to(dtype) + rotated * tables.sin.to(dtype);
}

}  // namespace qs
