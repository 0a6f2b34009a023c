// A torch-free description of an opened model, for the CLI `info` command and the GUI tree:
// decoder layers, their linear modules with shapes, parameter counts and dtypes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/model_config.h"

namespace qs {

struct LinearInfo {
    std::string name;         // short name, e.g. "self_attn.q_proj"
    std::string weight_name;  // checkpoint tensor, e.g. "model.layers.0.self_attn.q_proj.weight"
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    bool has_bias = false;
    std::string dtype;  // checkpoint dtype, e.g. "F32"
    std::int64_t parameters() const
    {
        return out_features * in_features + (has_bias ? out_features : 0);
    }
};

struct LayerInfo {
    int index = 0;
    std::vector<LinearInfo> linears;
    std::int64_t parameters = 0;  // every tensor of the layer (norms included)
};

struct ModelInfo {
    std::string directory;
    ModelConfig config;
    std::vector<LayerInfo> layers;
    // Distinct parameters: every tensor of the checkpoint, except a stored lm_head.weight that is a
    // copy of the tied embedding (tie_word_embeddings), which is counted once.
    std::int64_t total_parameters = 0;
    std::int64_t stored_parameters = 0;  // every element stored in the files
    std::int64_t embedding_parameters = 0;
    std::string dtype;  // dominant checkpoint dtype
    std::int64_t file_bytes = 0;

    // Opens config.json and the safetensors header(s) in dir; throws QsError.
    static ModelInfo load(const std::string& dir);
};

}  // namespace qs
