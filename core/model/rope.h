// Rotary position embedding in the Hugging Face "rotate_half" layout (the q/k rows of HF
// Llama checkpoints are permuted for it): x' = x*cos + rotate_half(x)*sin, where
// rotate_half([x1, x2]) = [-x2, x1] over the two halves of the head dimension.
#pragma once

#include <torch/types.h>

#include "core/model/model_config.h"

namespace qs {

// inv_freq[i] = 1 / theta^(2i/d), then adjusted by rope_scaling (llama3, linear) as HF does.
torch::Tensor rope_inverse_frequencies(const ModelConfig& config);

struct RopeTables {
    torch::Tensor cos;  // [T, head_dim]
    torch::Tensor sin;  // [T, head_dim]
};

// Tables for positions [first_position, first_position + length) on device, float32 (the rows
// of a table from 0, bit for bit: each entry is cos/sin of the same float32 product).
RopeTables rope_tables(const ModelConfig& config, std::int64_t length, const torch::Device& device,
                       std::int64_t first_position = 0);

// x: [B, heads, T, head_dim]; computes in x's dtype (the tables are cast to it).
torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& tables);

}  // namespace qs
