// Causal multi-head attention core shared by the architectures: softmax(q k^T * scale + mask) v
// with grouped-query attention (each of the kv heads serves heads/kv_heads query heads, as HF's
// repeat_kv) and an optional sliding window (Mistral). Computes in q's dtype with the softmax in
// float32. With a KV cache k and v are longer than q: the queries are the last T_q of the T_k
// positions, so query i sits at position T_k - T_q + i and sees keys up to it.
#pragma once

#include <optional>

#include <torch/types.h>

namespace qs {

// q: [B, H, T_q, D], k/v: [B, KV, T_k, D] with T_k >= T_q -> [B, T_q, H*D]
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale,
                               std::optional<std::int64_t> sliding_window = std::nullopt);

}  // namespace qs
