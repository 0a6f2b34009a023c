#include "core/analysis/experiment_analysis.h"

#include <cmath>
#include <limits>

#include "core/analysis/tensor_stats.h"
#include "core/model/checkpoint_names.h"

namespace qs {
namespace {

struct ErrorSums {
    double squared_error = 0, signal = 0, cosine_sum = 0;
    std::int64_t elements = 0, rows = 0;

    void add(const torch::Tensor& y_q, const torch::Tensor& y)
    {
        auto q = y_q.reshape({-1, y_q.size(-1)}).to(torch::kFloat64);
        auto r = y.reshape({-1, y.size(-1)}).to(torch::kFloat64);
        squared_error += (q - r).pow(2).sum().item<double>();
        signal += r.pow(2).sum().item<double>();
        auto cos = (q * r).sum(-1) / (q.norm(2, -1) * r.norm(2, -1)).clamp_min(1e-30);
        cosine_sum += cos.sum().item<double>();
        elements += r.numel();
        rows += r.size(0);
    }
};

}  // namespace

std::map<std::string, TensorStats> layer_activation_stats(const ModelConfig& config,
                                                          LayerWeights& weights,
                                                          const torch::Tensor& inputs,
                                                          const LayerContext& context,
                                                          const StatsOptions& options)
{
    std::map<std::string, ActivationStatsAccumulator> accumulators;
    for (const auto& module : decoder_linear_names(config))
        accumulators.emplace(
            module, ActivationStatsAccumulator(weights.get(module + ".weight").size(1), options));
    run_layer(config, weights, inputs, context,
              [&](const std::string& module, const torch::Tensor& x) {
                  if (auto it = accumulators.find(module); it != accumulators.end())
                      it->second.add(x);
              });
    std::map<std::string, TensorStats> stats;
    for (const auto& [module, accumulator] : accumulators)
        stats[module] = accumulator.finish();
    return stats;
}

HiddenComparison compare_hidden(const torch::Tensor& quantized, const torch::Tensor& reference)
{
    ErrorSums sums;
    sums.add(quantized, reference);
    return {sums.rows ? sums.cosine_sum / sums.rows : 0.0,
            sums.elements ? sums.squared_error / sums.elements : 0.0};
}

ExperimentAnalysis::ExperimentAnalysis(const ModelConfig& config, const Recipe& recipe,
                                       const torch::Tensor& depth_inputs, AnalysisOptions options)
    : m_config(config), m_recipe(recipe), m_options(options)
{
    const auto n = std::min<std::int64_t>(depth_inputs.size(0), options.depth_samples);
    m_fp_hidden = depth_inputs.slice(0, 0, n).clone();
    m_q_hidden = m_fp_hidden.clone();
}

LinearRecord& ExperimentAnalysis::record(int layer, const std::string& module,
                                         const LayerWeights& weights)
{
    auto& r = m_records[layer][module];
    if (r.module.empty()) {
        const auto& w = weights.get(module + ".weight");
        r.layer = layer;
        r.module = module;
        r.out_features = w.size(0);
        r.in_features = w.size(1);
    }
    return r;
}

void ExperimentAnalysis::add_stage_statistics(int layer, const std::string& stage,
                                              LayerWeights& weights, const torch::Tensor& inputs,
                                              const LayerContext& context)
{
    if (!m_options.statistics) return;
    for (const auto& module : decoder_linear_names(m_config))
        record(layer, module, weights).weight_stats[stage] =
            compute_weight_tensor_stats(weights.get(module + ".weight"), m_options.stats);
    for (auto& [module, stats] :
         layer_activation_stats(m_config, weights, inputs, context, m_options.stats))
        m_records[layer][module].activation_stats[stage] = std::move(stats);
}

void ExperimentAnalysis::after_transform(int layer, const std::string& stage, LayerWeights& weights,
                                         const torch::Tensor& inputs, const LayerContext& context)
{
    add_stage_statistics(layer, stage, weights, inputs, context);
}

void ExperimentAnalysis::measure_output_errors(int layer, LayerWeights& original,
                                               LayerWeights& quantized, const torch::Tensor& inputs,
                                               const LayerContext& context)
{
    torch::NoGradGuard no_grad;
    const auto modules = decoder_linear_names(m_config);
    const bool quantized_activations = m_recipe.activations.kind != FormatKind::None;
    std::map<std::string, ErrorSums> errors;
    std::map<std::string, ActivationStatsAccumulator> fp_acts, q_acts;
    for (const auto& module : modules) {
        const auto in = original.get(module + ".weight").size(1);
        if (m_options.statistics) {
            fp_acts.emplace(module, ActivationStatsAccumulator(in, m_options.stats));
            if (quantized_activations)
                q_acts.emplace(module, ActivationStatsAccumulator(in, m_options.stats));
        }
    }
    // The quantizer's batches (layer_quantizer.cpp): each [tokens, intermediate_size] tensor --
    // the MLP's temporaries and the gate / up reference outputs kept for the quantized pass --
    // holds at most 2^25 elements (one 2048-token sequence for a 7B model instead of four).
    const auto batch = layer_batch_size(inputs, m_config.intermediate_size);
    for (std::int64_t b = 0; b < inputs.size(0); b += batch) {
        auto x = inputs.slice(0, b, b + batch);
        std::map<std::string, torch::Tensor> reference;
        run_layer(m_config, original, x, context,
                  [&](const std::string& module, const torch::Tensor& in) {
                      reference[module] = torch::linear(in, original.get(module + ".weight"),
                                                        original.get_optional(module + ".bias"));
                      if (auto it = fp_acts.find(module); it != fp_acts.end()) it->second.add(in);
                  });
        run_layer(m_config, quantized, x, context,
                  [&](const std::string& module, const torch::Tensor& in) {
                      auto used = quantized.transformed_input(module, in);
                      auto y = torch::linear(used, quantized.get(module + ".weight"),
                                             quantized.get_optional(module + ".bias"));
                      errors[module].add(y, reference.at(module));
                      if (auto it = q_acts.find(module); it != q_acts.end()) it->second.add(used);
                  });
    }
    for (const auto& module : modules) {
        auto& r = m_records[layer][module];
        const auto& e = errors[module];
        r.output_mse = e.elements ? e.squared_error / e.elements : 0.0;
        r.output_sqnr_db = e.squared_error > 0 ? 10.0 * std::log10(e.signal / e.squared_error)
                                               : std::numeric_limits<double>::infinity();
        r.output_cosine = e.rows ? e.cosine_sum / e.rows : 0.0;
        if (auto it = fp_acts.find(module); it != fp_acts.end())
            r.activation_stats["input"] = it->second.finish();
        if (auto it = q_acts.find(module); it != q_acts.end())
            r.activation_stats["quantized"] = it->second.finish();
    }
}

void ExperimentAnalysis::layer_done(int layer, LayerWeights& original, LayerWeights& quantized,
                                    const LayerQuantReport& report, const torch::Tensor& inputs,
                                    const LayerContext& context)
{
    torch::NoGradGuard no_grad;
    if (!report.linears.empty()) {
        for (const auto& lr : report.linears) {
            auto& r = record(layer, lr.module, original);
            r.method = lr.method;
            r.weight_relative_mse = lr.weight_relative_mse;
            r.storage_bits = m_recipe.weights.storage_bits(r.out_features, r.in_features);
            r.group_size = m_recipe.weights.kind == FormatKind::Mx ? m_recipe.weights.block_size
                           : m_recipe.weights.granularity == Granularity::Group
                               ? m_recipe.weights.group_size
                               : 0;
            r.gptq_total_error = lr.gptq_total_error;
            auto floats = [](const torch::Tensor& t) {
                if (!t.defined()) return std::vector<float>();
                auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
                return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
            };
            r.gptq_column_error = floats(lr.gptq_column_error);
            r.hessian_diag = floats(lr.hessian_diag);
            if (lr.gptq_perm.defined()) {
                auto p = lr.gptq_perm.to(torch::kCPU, torch::kLong).contiguous();
                r.gptq_perm.assign(p.data_ptr<std::int64_t>(),
                                   p.data_ptr<std::int64_t>() + p.numel());
            }
            if (lr.gptq_g_idx.defined()) {
                auto g = lr.gptq_g_idx.to(torch::kCPU, torch::kInt).contiguous();
                r.gptq_g_idx.assign(g.data_ptr<std::int32_t>(),
                                    g.data_ptr<std::int32_t>() + g.numel());
            }
            if (m_options.statistics)
                r.weight_stats["quantized"] = compute_weight_tensor_stats(
                    quantized.get(lr.module + ".weight"), m_options.stats);
        }
        if (m_options.statistics)
            for (const auto& module : decoder_linear_names(m_config))
                record(layer, module, original).weight_stats["input"] =
                    compute_weight_tensor_stats(original.get(module + ".weight"), m_options.stats);
        // Recipes without calibration data (RTN weights only) are measured on the depth
        // stream's windows instead.
        const auto& measured_on = inputs.defined() ? inputs : m_q_hidden;
        auto measure_context = inputs.defined() ? context
                                                : make_layer_context(m_config, measured_on.size(1),
                                                                     measured_on.device());
        measure_output_errors(layer, original, quantized, measured_on, measure_context);
    }
    auto depth_context = make_layer_context(m_config, m_fp_hidden.size(1), m_fp_hidden.device());
    m_fp_hidden = run_layer(m_config, original, m_fp_hidden, depth_context);
    m_q_hidden = run_layer(m_config, quantized, m_q_hidden, depth_context);
    const auto c = compare_hidden(m_q_hidden, m_fp_hidden);
    m_depth.cosine.push_back(c.cosine);
    m_depth.mse.push_back(c.mse);
}

std::vector<LinearRecord> ExperimentAnalysis::linears() const
{
    std::vector<LinearRecord> out;
    for (const auto& [layer, modules] : m_records)
        for (const auto& module : decoder_linear_names(m_config))
            if (auto it = modules.find(module); it != modules.end()) out.push_back(it->second);
    return out;
}

}  // namespace qs
