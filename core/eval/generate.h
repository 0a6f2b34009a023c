// Greedy decoding (argmax at every step), the reference behaviour of llama2.c's run.c with
// temperature 0. The prompt runs through the streamed layers once, then each step runs only the
// new token against a KV cache of the earlier tokens' keys and values (cached_decoder.h), so
// generating n tokens costs about one forward over prompt + n tokens rather than n of them. The
// cached logits match a full forward's up to floating-point summation order; stories260K's
// tokens equal llama2.c's and the uncached path's (tests/core/test_kv_cache.cpp). Layers stay
// resident when the model is small (under 1 GiB of layer weights), else stream every step.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/causal_lm.h"

namespace qs {

class Feedback;

struct GenerateOptions {
    std::int64_t max_new_tokens = 64;
    bool stop_at_eos = true;
    // false: re-run the whole sequence every step (no cache), the exact full-forward logits.
    bool kv_cache = true;
};

std::vector<std::int32_t> generate_greedy(const CausalLM& model,
                                          const std::vector<std::int32_t>& prompt,
                                          const GenerateOptions& options,
                                          Feedback* feedback = nullptr);

}  // namespace qs
