#include "core/model/layer_weights.h"

#include "core/model/compute_dtype.h"
#include "core/util/error.h"

namespace qs {

const torch::Tensor& LayerWeights::get(const std::string& name) const
{
    auto it = m_tensors.find(name);
    if (it == m_tensors.end()) throw QsError("decoder layer has no tensor '" + name + "'");
    return it->second;
}

torch::Tensor LayerWeights::get_optional(const std::string& name) const
{
    auto it = m_tensors.find(name);
    return it == m_tensors.end() ? torch::Tensor() : it->second;
}

std::int64_t LayerWeights::bytes() const
{
    std::int64_t total = 0;
    for (const auto& [name, t] : m_tensors)
        total += t.numel() * t.element_size();
    return total;
}

torch::Tensor LayerWeights::transformed_input(const std::string& module,
                                              const torch::Tensor& x) const
{
    if (!m_input_transform) return x;
    // Activation fake quantization computes in float32 and hands back the compute dtype.
    if (x.scalar_type() == torch::kFloat32) return m_input_transform(module, x);
    return m_input_transform(module, x.to(torch::kFloat32)).to(x.scalar_type());
}

torch::Tensor LayerWeights::apply_linear(const std::string& module, const torch::Tensor& x) const
{
    // Statistics (Hessians, absmax, AWQ means) are quantization math: float32 whatever the
    // compute dtype, as the GPTQ reference's inp.float().
    if (m_observer)
        m_observer(module, x.scalar_type() == torch::kFloat32 ? x : x.to(torch::kFloat32));
    return dtype_linear(transformed_input(module, x), get(module + ".weight"),
                        get_optional(module + ".bias"));
}

}  // namespace qs
