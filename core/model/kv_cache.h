// Keys and values of the tokens a decoder has already run, per layer, so a step of incremental
// decoding computes only the new tokens: their queries attend to the cached keys and to their
// own (causal_attention's query offset), and their keys and values are appended. K is stored
// after RoPE (Llama family), both in the compute dtype (compute_dtype.h), [B, KV heads, T, D],
// as HF's DynamicCache. Storage grows by doubling (or to the capacity given up front), so
// appending a token copies only that token and the attention reads the cache as a view.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace qs {

class LayerKvCache {
public:
    // `capacity`: tokens to allocate for on the first append (0: exactly what it brings).
    explicit LayerKvCache(std::int64_t capacity = 0) : m_capacity(capacity) {}

    // Tokens cached.
    std::int64_t length() const { return m_length; }
    // Appends k, v [B, KV, T_new, D] (the batch, heads, dim and dtype of earlier appends) and
    // returns every cached key and value, [B, KV, length(), D] views of the storage.
    std::pair<torch::Tensor, torch::Tensor> append(const torch::Tensor& k, const torch::Tensor& v);
    std::int64_t bytes() const;

private:
    torch::Tensor m_key, m_value;  // [B, KV, capacity, D]; the first m_length tokens are used
    std::int64_t m_capacity = 0;
    std::int64_t m_length = 0;
};

// One LayerKvCache per decoder layer; all layers hold the same tokens.
struct KvCache {
    std::vector<LayerKvCache> layers;

    KvCache(int num_layers, std::int64_t capacity)
        : layers(std::size_t(num_layers), LayerKvCache(capacity))
    {
    }
    // The position of the next token (tokens cached so far).
    std::int64_t length() const { return layers.empty() ? 0 : layers.front().length(); }
    std::int64_t bytes() const;
};

}  // namespace qs
