// The tensors of one decoder layer, keyed by their name inside the layer
// ("self_attn.q_proj.weight", "input_layernorm.weight", ...), as float32 tensors on the compute
// device. Forward functions read weights from here, so a quantizer can swap a linear's weight
// for its dequantized version without touching the model code.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

namespace qs {

class LayerWeights {
public:
    void set(const std::string& name, torch::Tensor tensor) { m_tensors[name] = std::move(tensor); }
    bool has(const std::string& name) const { return m_tensors.count(name) > 0; }
    const torch::Tensor& get(const std::string& name) const;  // throws QsError when missing
    // Undefined tensor when absent (optional biases).
    torch::Tensor get_optional(const std::string& name) const;
    const std::map<std::string, torch::Tensor>& all() const { return m_tensors; }
    std::int64_t bytes() const;

private:
    std::map<std::string, torch::Tensor> m_tensors;
};

}  // namespace qs
