// Causal multi-head attention core shared by the architectures: softmax(q k^T * scale + mask) v
// with grouped-query attention (each of the kv heads serves heads/kv_heads query heads, as HF's
// repeat_kv) and an optional sliding window (Mistral). Computes in q's dtype with the softmax in
// float32.
#pragma once

#include <optional>

#include <torch/types.h>

namespace qs {

// q: [B, H, T, D], k/v: [B, KV, T, D] -> [B, T, H*D]
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale,
                               std::optional<std::int64_t> sliding_window = std::nullopt);

}  // namespace qs
