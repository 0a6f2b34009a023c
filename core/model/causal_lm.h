// A causal language model opened from a Hugging Face directory, run as
//   embed(ids) -> decoder layer 0..L-1 -> head(hidden) -> logits,
// where each decoder layer's weights are copied out of the memory-mapped checkpoint when the
// layer is needed (load_layer) and dropped by the caller after use. Opening reads only
// config.json, the safetensors headers and the tokenizer, so it costs almost no memory; running
// keeps about one layer (plus activations) resident. The device and the compute dtype
// (compute_dtype.h: float32 by default, bfloat16 or float16 as transformers runs half-precision
// models) are chosen when the model is opened; weights are cast to the dtype as they load.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/io/tensor_store.h"
#include "core/model/checkpoint_names.h"
#include "core/model/decoder_layer.h"
#include "core/model/layer_weights.h"
#include "core/model/model_config.h"
#include "core/quant/quant_format.h"
#include "core/tokenizer/tokenizer.h"

namespace qs {

class Feedback;

// Final norm, optional project_out and the output projection, loaded together.
struct HeadWeights {
    torch::Tensor norm_weight, norm_bias;  // undefined when the model has no final norm
    torch::Tensor project_out;             // OPT with word_embed_proj_dim != hidden
    torch::Tensor lm_head;                 // [vocab, dim]
};

class CausalLM {
public:
    // Throws QsError naming the file for bad config, checkpoint or tokenizer.
    static std::unique_ptr<CausalLM> open(const std::string& dir,
                                          const torch::Device& device = torch::kCPU,
                                          bool with_tokenizer = true,
                                          torch::ScalarType compute_dtype = torch::kFloat32);

    const std::string& directory() const { return m_dir; }
    const ModelConfig& config() const { return m_config; }
    const TensorStore& store() const { return *m_store; }
    const Tokenizer& tokenizer() const;  // throws QsError when opened without one
    const torch::Device& device() const { return m_device; }
    // The dtype of the hidden states, the loaded weights and the linears (not of the logits).
    torch::ScalarType compute_dtype() const { return m_compute_dtype; }
    int num_layers() const { return static_cast<int>(m_config.num_layers); }
    // Activation format of a QuantScope fake-quantized checkpoint (config.json
    // quantization_config.activations); every loaded layer fake-quantizes its linears' inputs.
    const QuantFormat& activation_format() const { return m_activation_format; }

    // ids [B, T] (int64) at positions [first_position, first_position + T) -> hidden
    // [B, T, hidden] in the compute dtype on device (the position matters to OPT's learned
    // position embeddings; a KV-cached step passes the cache's length).
    torch::Tensor embed(const torch::Tensor& ids, std::int64_t first_position = 0) const;
    // The layer's tensors in the compute dtype, or in `dtype` (quantize_model keeps float32
    // master weights whatever the compute dtype).
    LayerWeights load_layer(int index) const { return load_layer(index, m_compute_dtype); }
    LayerWeights load_layer(int index, torch::ScalarType dtype) const;
    // The layer's tensors as the checkpoint stores them when that is float32, bfloat16 or
    // float16, float32 otherwise: exact values at the checkpoint's size (quantize_model's master
    // weights: half the memory of float32 for a half-precision checkpoint).
    LayerWeights load_layer_as_stored(int index) const;
    HeadWeights load_head() const;
    // hidden [B, T, hidden] -> logits [B, T, vocab], float32 whatever the compute dtype (the
    // final norm in float32, the projections in the hidden states' dtype, then the logits
    // converted for a float32 log-softmax / loss as transformers' logits.float()).
    torch::Tensor head(const torch::Tensor& hidden, const HeadWeights& weights) const;

    // Whole forward pass for one batch, streaming the layers: logits [B, T, vocab].
    torch::Tensor forward(const torch::Tensor& ids, Feedback* feedback = nullptr) const;

private:
    CausalLM() = default;
    // dtype empty: each tensor in its stored dtype (load_layer_as_stored).
    LayerWeights load_layer_in(int index, std::optional<torch::ScalarType> dtype) const;

    std::string m_dir;
    ModelConfig m_config;
    std::unique_ptr<TensorStore> m_store;
    CheckpointNames m_names;
    std::unique_ptr<Tokenizer> m_tokenizer;
    torch::Device m_device = torch::kCPU;
    torch::ScalarType m_compute_dtype = torch::kFloat32;
    QuantFormat m_activation_format;
    std::vector<bool> m_activation_layers;  // the layers whose inputs m_activation_format quantizes
};

}  // namespace qs
