// The tensors of one decoder layer, keyed by their name inside the layer
// ("self_attn.q_proj.weight", "input_layernorm.weight", ...), on the compute device, in the
// compute dtype (CausalLM::load_layer) or float32 (the master weights quantize_model quantizes;
// the forward casts them to the activations' dtype). Forward functions read weights from here,
// so a quantizer can swap a linear's weight for its dequantized version without touching the
// model code.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <torch/types.h>

namespace qs {

// Sees the input of every linear before it runs (calibration statistics, Hessians).
using LinearObserver = std::function<void(const std::string& module, const torch::Tensor& input)>;
// Replaces the input of a linear before it runs (activation fake quantization).
using LinearInputTransform =
    std::function<torch::Tensor(const std::string& module, const torch::Tensor& input)>;

class LayerWeights {
public:
    void set(const std::string& name, torch::Tensor tensor) { m_tensors[name] = std::move(tensor); }
    bool has(const std::string& name) const { return m_tensors.count(name) > 0; }
    const torch::Tensor& get(const std::string& name) const;  // throws QsError when missing
    // Undefined tensor when absent (optional biases).
    torch::Tensor get_optional(const std::string& name) const;
    const std::map<std::string, torch::Tensor>& all() const { return m_tensors; }
    std::int64_t bytes() const;

    // y = x W^T + b for the linear `module` ("self_attn.q_proj") in x's dtype, after the input
    // transform and observer when set; the observer sees x as float32. Every architecture's
    // forward calls linears through here.
    torch::Tensor apply_linear(const std::string& module, const torch::Tensor& x) const;
    // The input `module` actually multiplies: x after the input transform (x when none), in
    // x's dtype (the transform itself runs in float32).
    torch::Tensor transformed_input(const std::string& module, const torch::Tensor& x) const;
    bool has_input_transform() const { return static_cast<bool>(m_input_transform); }
    void set_observer(LinearObserver observer) { m_observer = std::move(observer); }
    void set_input_transform(LinearInputTransform transform)
    {
        m_input_transform = std::move(transform);
    }

private:
    LinearObserver m_observer;
    LinearInputTransform m_input_transform;
    std::map<std::string, torch::Tensor> m_tensors;
};

}  // namespace qs
