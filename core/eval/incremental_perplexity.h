// Perplexity for interactive use: the hidden states of the evaluation windows at decoder-layer
// boundaries are kept, so when only layers k..L-1 changed (a new recipe for layer k in the GUI)
// the next evaluation runs layers k..L-1 and the head, not the whole model.
//   boundary b = the hidden states entering layer b (b = 0: embeddings; b = L: final output).
// Memory: (L + 1) x windows x seqlen x hidden floats when every boundary fits the budget;
// otherwise only every `stride`-th boundary is kept (stride chosen to fit) and an evaluation
// starting at k resumes from the nearest kept boundary <= k. Same protocol and numbers as
// evaluate_perplexity (core/eval/perplexity.h) for the same windows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <torch/types.h>

#include "core/eval/perplexity.h"
#include "core/model/causal_lm.h"

namespace qs {

class Feedback;

// The weights of decoder layer i as the current recipe has them (quantized or not).
using LayerProvider = std::function<LayerWeights(int layer)>;

class IncrementalPerplexity {
public:
    IncrementalPerplexity(const CausalLM& model, const std::vector<std::int32_t>& tokens,
                          const PerplexityOptions& options, std::int64_t memory_budget_mb = 2048);

    // Evaluates with `layers`; only layers >= first_changed (and the head) are re-run when
    // earlier boundaries are cached. first_changed = 0 (or the first call) runs everything.
    PerplexityResult evaluate(const LayerProvider& layers, int first_changed,
                              Feedback* feedback = nullptr);
    // Clears every cached boundary after `layer` (when layer `layer` changes); evaluate()
    // does this itself.
    void invalidate_from(int layer);

    int layers_run_last() const { return m_layers_run; }
    int stride() const { return m_stride; }
    std::int64_t cached_bytes() const;

private:
    const CausalLM& m_model;
    PerplexityOptions m_options;
    torch::Tensor m_ids;  // [windows, length]
    std::int64_t m_tokens = 0;
    bool m_partial = false;
    int m_stride = 1;
    std::map<int, torch::Tensor> m_boundaries;  // boundary -> [windows, length, hidden]
    int m_layers_run = 0;
};

}  // namespace qs
