// Gathers, while a recipe quantizes a model layer by layer, everything the session file keeps
// about the experiment (core/analysis/experiment_record.h):
//   - per linear: weight statistics at each stage ("input", "smoothquant", "awq", "quantized")
//     and the statistics of its input activations on the calibration data at the same stages
//     (the "quantized" activation stage only when the recipe fake-quantizes activations: the
//     values after fake quantization);
//   - per linear: output error of the linear inside the quantized layer against the same linear
//     inside the full-precision layer, both run on this layer's calibration inputs (MSE, SQNR,
//     mean per-token cosine), the relative weight MSE and the GPTQ per-column error;
//   - error across depth: the first `depth_samples` calibration windows run through the
//     full-precision model and through the quantized model side by side; after each decoder
//     layer the hidden states are compared (mean per-token cosine, MSE).
// The statistics cost one extra run of each layer per stage; the error pass runs the
// full-precision and the quantized layer batch by batch, so only one batch of outputs is held.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/analysis/experiment_record.h"
#include "core/quant/quantize_observer.h"
#include "core/quant/recipe.h"

namespace qs {

struct AnalysisOptions {
    StatsOptions stats;
    bool statistics = true;  // weight and activation statistics (errors are always measured)
    std::int64_t depth_samples = 16;
};

class ExperimentAnalysis : public QuantizeObserver {
public:
    // depth_inputs: embeddings of the calibration windows [n, T, hidden]; the first
    // depth_samples are used for the error across depth (and as calibration inputs for the
    // statistics of recipes that need no calibration, e.g. RTN weights only).
    ExperimentAnalysis(const ModelConfig& config, const Recipe& recipe,
                       const torch::Tensor& depth_inputs, AnalysisOptions options = {});

    void after_transform(int layer, const std::string& stage, LayerWeights& weights,
                         const torch::Tensor& inputs, const LayerContext& context) override;
    void layer_done(int layer, LayerWeights& original, LayerWeights& quantized,
                    const LayerQuantReport& report, const torch::Tensor& inputs,
                    const LayerContext& context) override;

    std::vector<LinearRecord> linears() const;  // layer-major, decoder order
    const DepthError& depth() const { return m_depth; }

private:
    LinearRecord& record(int layer, const std::string& module, const LayerWeights& weights);
    void add_stage_statistics(int layer, const std::string& stage, LayerWeights& weights,
                              const torch::Tensor& inputs, const LayerContext& context);
    void measure_output_errors(int layer, LayerWeights& original, LayerWeights& quantized,
                               const torch::Tensor& inputs, const LayerContext& context);

    const ModelConfig& m_config;
    Recipe m_recipe;
    AnalysisOptions m_options;
    torch::Tensor m_fp_hidden, m_q_hidden;  // error-across-depth streams
    std::map<int, std::map<std::string, LinearRecord>> m_records;
    DepthError m_depth;
};

// Statistics of every linear's input when `weights` run over `inputs` (one pass).
std::map<std::string, TensorStats> layer_activation_stats(const ModelConfig& config,
                                                          LayerWeights& weights,
                                                          const torch::Tensor& inputs,
                                                          const LayerContext& context,
                                                          const StatsOptions& options);

// Compares two hidden-state tensors [..., hidden]: mean per-row cosine and element MSE.
struct HiddenComparison {
    double cosine = 0;
    double mse = 0;
};
HiddenComparison compare_hidden(const torch::Tensor& quantized, const torch::Tensor& reference);

}  // namespace qs
