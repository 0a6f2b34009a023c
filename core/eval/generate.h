// Greedy decoding (argmax at every step), the reference behaviour of llama2.c's run.c with
// temperature 0. Each step re-runs the whole sequence through the streamed layers (no KV cache):
// simple and exact, and fast enough for the short generations used to check a model.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/causal_lm.h"

namespace qs {

class Feedback;

struct GenerateOptions {
    std::int64_t max_new_tokens = 64;
    bool stop_at_eos = true;
};

std::vector<std::int32_t> generate_greedy(const CausalLM& model,
                                          const std::vector<std::int32_t>& prompt,
                                          const GenerateOptions& options,
                                          Feedback* feedback = nullptr);

}  // namespace qs
