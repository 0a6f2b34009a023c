// Step-by-step decoding of a batch of sequences that grow together (greedy generation,
// data-free calibration): each step feeds the new tokens (the prompt first, then one token per
// sequence) and returns the logits of the last position. With a KV cache (kv_cache.h) a step runs
// only its new tokens through the layers, so n steps cost one forward over the final sequence
// instead of n forwards over growing ones. The cached logits equal the full forward's up to
// floating-point summation order (the products run on [B, 1] rows instead of [B, T] blocks;
// tests/core/test_kv_cache.cpp bounds the difference).
//
// Without a cache each step re-runs the whole sequence, exactly the computation of a forward
// pass. The decoder falls back to that when
// - options.kv_cache is false;
// - the cache for batch x max_length tokens would exceed options.cache_budget_bytes (a 7B
//   model's 32 layers hold 1 MiB of float32 keys and values per token);
// - the model fake-quantizes activations with one dynamic scale per tensor (int or fp8 "tensor"
//   granularity without static input scales): that scale spans every token of a forward, so a
//   step over the new tokens alone would quantize them differently from the full sequence.
//
// Layers: when they total at most options.resident_layers_bytes they are loaded once and kept;
// otherwise every step streams them again (LayerStream: the next layer loads while the current
// one runs), so a model that does not fit in memory still runs with about one layer resident.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/types.h>

#include "core/model/causal_lm.h"
#include "core/model/kv_cache.h"

namespace qs {

struct DecoderOptions {
    bool kv_cache = true;
    std::int64_t cache_budget_bytes = std::int64_t(8) << 30;
    std::int64_t resident_layers_bytes = std::int64_t(1) << 30;
};

class CachedDecoder {
public:
    // `batch` sequences growing to at most `max_length` tokens (sizes the cache up front; a
    // longer run still works, the cache grows).
    CachedDecoder(const CausalLM& model, std::int64_t batch, std::int64_t max_length,
                  const DecoderOptions& options = {});

    // ids [batch, T] int64 (any device), the tokens after those already fed -> logits of the
    // last new position, [batch, vocab] float32 on the model's device.
    torch::Tensor step(const torch::Tensor& ids);

    // Tokens fed so far (per sequence).
    std::int64_t length() const { return m_length; }
    bool uses_kv_cache() const { return m_cache.has_value(); }
    bool layers_resident() const { return !m_layers.empty(); }

private:
    torch::Tensor run_layers(torch::Tensor hidden, const LayerContext& context);

    const CausalLM& m_model;
    std::int64_t m_batch;
    HeadWeights m_head;
    std::vector<LayerWeights> m_layers;  // all of them when resident, else empty
    std::optional<KvCache> m_cache;
    torch::Tensor m_ids;  // every token fed, on the device (only without a cache)
    std::int64_t m_length = 0;
};

// Whether a forward over some tokens of a sequence gives those tokens the activations a
// forward over the whole sequence does, judged from the model's activation format and one of
// its layers (a dynamic per-tensor scale couples the tokens; see above).
bool activations_are_per_token(const CausalLM& model, const LayerWeights& layer);

}  // namespace qs
