// One experiment of a study: quantize the model with a recipe (into a temporary fake-quantized
// checkpoint beside the session), gather its statistics and errors (ExperimentAnalysis),
// evaluate perplexity on each dataset, compute its exact size, and return the record the
// session file stores. A recipe with no method and no weight format is the full-precision
// reference: the model itself is evaluated and sized at 16 bits per weight.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/experiment_analysis.h"
#include "core/analysis/experiment_record.h"
#include "core/model/causal_lm.h"
#include "core/quant/calibration_cache.h"
#include "core/quant/recipe.h"

namespace qs {

class Feedback;

struct EvalDataset {
    std::string label;  // "wikitext2"
    std::string path;
    std::vector<std::int32_t> tokens;  // tokenized once per sweep
};

struct ExperimentSettings {
    std::vector<EvalDataset> datasets;
    std::int64_t seqlen = 512;
    std::int64_t limit_windows = 0;  // 0 = every window
    AnalysisOptions analysis;
    std::string work_dir;  // where the temporary checkpoint goes (removed afterwards)
};

// Tokenizes each "label=path" (or bare path: label = file stem) with the model's tokenizer.
std::vector<EvalDataset> load_eval_datasets(const CausalLM& model,
                                            const std::vector<std::string>& specs);

bool is_full_precision(const Recipe& recipe);

ExperimentRecord run_experiment(const CausalLM& model, const Recipe& recipe, const std::string& id,
                                const ExperimentSettings& settings, CalibrationCache* cache,
                                Feedback* feedback = nullptr);

// Full-precision statistics of every linear (stage "original"): weights as loaded, activations
// on the cache's calibration windows.
std::vector<LinearRecord> compute_baseline(const CausalLM& model, CalibrationCache& cache,
                                           const StatsOptions& options,
                                           Feedback* feedback = nullptr);

std::string utc_timestamp();

}  // namespace qs
