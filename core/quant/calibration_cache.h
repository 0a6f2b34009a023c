// What every experiment of a sweep can share about the calibration data, computed once:
//   - the calibration token windows (data-free generation is the expensive case);
//   - the full-precision hidden states entering each decoder layer (layer 0: the embeddings),
//     which RTN, AWQ and SmoothQuant experiments calibrate on (they propagate full-precision
//     inputs) and which every experiment's error-across-depth is measured against;
//   - the Hessians of GPTQ's first stage (q/k/v, or every linear for OPT) of a layer computed
//     from full-precision inputs with the weights as loaded: exact for a GPTQ experiment at a
//     layer whose inputs are still full precision (its first quantized layer) with no scaling
//     before GPTQ.
// Hidden states are kept in memory up to `memory_budget_mb`; beyond it the cache keeps only
// the most recent layer and walks forward again from the embeddings when an earlier one is
// asked for (experiments walk layers in order, so that costs one pass per experiment).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/model/causal_lm.h"
#include "core/quant/layer_quantizer.h"
#include "core/quant/recipe.h"

namespace qs {

class Feedback;

class CalibrationCache {
public:
    CalibrationCache(const CausalLM& model, const CalibrationSettings& settings,
                     std::int64_t memory_budget_mb = 4096);

    const CalibrationSettings& settings() const { return m_settings; }
    bool serves(const CalibrationSettings& settings) const;

    const torch::Tensor& windows(Feedback* feedback = nullptr);        // [samples, seqlen]
    torch::Tensor fp_inputs(int layer, Feedback* feedback = nullptr);  // [samples, seqlen, hidden]
    // GPTQ first-stage Hessians of `layer` on full-precision inputs and original weights.
    const CachedHessians& fp_first_stage_hessians(int layer, bool true_sequential,
                                                  Feedback* feedback = nullptr);

    struct Counters {
        std::int64_t input_hits = 0, input_computed = 0;  // fp_inputs served / layers run
        std::int64_t hessian_hits = 0, hessian_computed = 0;
    };
    const Counters& counters() const { return m_counters; }

private:
    const CausalLM& m_model;
    CalibrationSettings m_settings;
    std::int64_t m_budget_bytes;
    torch::Tensor m_windows;
    std::map<int, torch::Tensor> m_inputs;  // layer -> FP inputs
    std::map<std::pair<int, bool>, CachedHessians> m_hessians;
    Counters m_counters;
};

}  // namespace qs
