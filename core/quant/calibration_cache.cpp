#include "core/quant/calibration_cache.h"

#include "core/quant/calibration.h"
#include "core/util/feedback.h"

namespace qs {

CalibrationCache::CalibrationCache(const CausalLM& model, const CalibrationSettings& settings,
                                   std::int64_t memory_budget_mb)
    : m_model(model), m_settings(settings), m_budget_bytes(memory_budget_mb << 20)
{
}

bool CalibrationCache::serves(const CalibrationSettings& s) const
{
    return s.dataset == m_settings.dataset && s.samples == m_settings.samples &&
           s.seqlen == m_settings.seqlen && s.seed == m_settings.seed;
}

const torch::Tensor& CalibrationCache::windows(Feedback* feedback)
{
    if (!m_windows.defined()) m_windows = calibration_windows(m_model, m_settings, feedback);
    return m_windows;
}

torch::Tensor CalibrationCache::fp_inputs(int layer, Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    if (auto it = m_inputs.find(layer); it != m_inputs.end()) {
        ++m_counters.input_hits;
        return it->second;
    }
    // Walk forward from the closest earlier layer held (or the embeddings).
    int from = 0;
    torch::Tensor hidden;
    for (const auto& [index, tensor] : m_inputs)
        if (index < layer && index >= from) {
            from = index;
            hidden = tensor;
        }
    if (!hidden.defined()) {
        from = 0;
        hidden = m_model.embed(windows(feedback).to(m_model.device()));
        m_inputs[0] = hidden;
    }
    auto context = make_layer_context(m_model.config(), hidden.size(1), m_model.device());
    for (int i = from; i < layer; ++i) {
        if (feedback) feedback->check_cancelled();
        LayerWeights weights = m_model.load_layer(i);
        hidden = run_layer(m_model.config(), weights, hidden, context);
        ++m_counters.input_computed;
        const std::int64_t per_layer = hidden.numel() * hidden.element_size();
        if (per_layer * std::int64_t(m_inputs.size() + 1) > m_budget_bytes) {
            // Over budget: keep only the newest layer (experiments walk forward).
            m_inputs.clear();
        }
        m_inputs[i + 1] = hidden;
    }
    return hidden;
}

const CachedHessians& CalibrationCache::fp_first_stage_hessians(int layer, bool true_sequential,
                                                                Feedback* feedback)
{
    const auto key = std::make_pair(layer, true_sequential);
    if (auto it = m_hessians.find(key); it != m_hessians.end()) {
        ++m_counters.hessian_hits;
        return it->second;
    }
    const auto& config = m_model.config();
    const auto stage = gptq_stages(config, true_sequential).front();
    auto inputs = fp_inputs(layer, feedback);
    LayerWeights weights = m_model.load_layer(layer);
    auto context = make_layer_context(config, inputs.size(1), m_model.device());
    CachedHessians hessians = linear_hessians(config, weights, inputs, context, stage);
    ++m_counters.hessian_computed;
    return m_hessians[key] = std::move(hessians);
}

}  // namespace qs
