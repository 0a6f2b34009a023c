#include "core/model/layer_weights.h"

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

torch::Tensor LayerWeights::apply_linear(const std::string& module, const torch::Tensor& x) const
{
    if (m_observer) m_observer(module, x);
    const torch::Tensor& input = m_input_transform ? m_input_transform(module, x) : x;
    return torch::linear(input, get(module + ".weight"), get_optional(module + ".bias"));
}

}  // namespace qs
