// Perplexity by the GPTQ protocol (datautils.py / opt_eval): the token stream is cut into
// non-overlapping windows of seqlen tokens (tail dropped), each window is scored independently,
// ppl = exp(mean NLL over every predicted position of every window). A stream shorter than one
// window is scored as one partial window (reported as such) so a short text still has a value;
// fewer than 2 tokens is an error. The model runs layer-major over groups of windows: each
// layer is loaded once per group, not once per window. The layers run in the model's compute
// dtype (CausalLM::compute_dtype); the logits, log-softmax and NLL sum are float32 or wider.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/causal_lm.h"

namespace qs {

class Feedback;

struct PerplexityOptions {
    std::int64_t seqlen = 2048;
    std::int64_t limit_windows = 0;        // 0 = all
    std::int64_t memory_budget_mb = 2048;  // hidden states kept between layers
};

struct PerplexityResult {
    double ppl = 0;
    double mean_nll = 0;
    std::int64_t windows = 0;
    std::int64_t window_length = 0;  // seqlen, or the stream length for a partial window
    std::int64_t tokens = 0;         // tokens in the stream
    std::int64_t scored_tokens = 0;  // predicted positions
    bool partial_window = false;
    double seconds = 0;
};

PerplexityResult evaluate_perplexity(const CausalLM& model, const std::vector<std::int32_t>& tokens,
                                     const PerplexityOptions& options,
                                     Feedback* feedback = nullptr);

}  // namespace qs
