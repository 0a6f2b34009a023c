#include "core/eval/incremental_perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {
namespace {

constexpr std::int64_t kTokensPerBatch = 16384;

}  // namespace

IncrementalPerplexity::IncrementalPerplexity(const CausalLM& model,
                                             const std::vector<std::int32_t>& tokens,
                                             const PerplexityOptions& options,
                                             std::int64_t memory_budget_mb)
    : m_model(model), m_options(options)
{
    if (options.seqlen < 2) throw QsError("seqlen must be at least 2");
    if (tokens.size() < 2)
        throw QsError("dataset has " + std::to_string(tokens.size()) +
                      " token(s): nothing to predict (need at least 2)");
    m_tokens = static_cast<std::int64_t>(tokens.size());
    std::int64_t length = options.seqlen;
    std::int64_t windows = m_tokens / length;
    if (windows == 0) {
        m_partial = true;
        length = m_tokens;
        windows = 1;
    }
    if (options.limit_windows > 0) windows = std::min(windows, options.limit_windows);
    m_ids = torch::from_blob(const_cast<std::int32_t*>(tokens.data()), {windows * length},
                             torch::kInt32)
                .to(torch::kLong)
                .view({windows, length});
    const std::int64_t boundary_bytes = windows * length * model.config().hidden_size * 4;
    const std::int64_t budget = memory_budget_mb << 20;
    const int layers = model.num_layers();
    // Keep boundaries 0, stride, 2 stride, ... (and L): smallest stride that fits the budget.
    while (m_stride < layers && boundary_bytes * (layers / m_stride + 2) > budget)
        ++m_stride;
}

std::int64_t IncrementalPerplexity::cached_bytes() const
{
    std::int64_t total = 0;
    for (const auto& [b, t] : m_boundaries)
        total += t.numel() * t.element_size();
    return total;
}

void IncrementalPerplexity::invalidate_from(int layer)
{
    for (auto it = m_boundaries.begin(); it != m_boundaries.end();)
        it = it->first > layer ? m_boundaries.erase(it) : std::next(it);
}

PerplexityResult IncrementalPerplexity::evaluate(const LayerProvider& layers, int first_changed,
                                                 Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    const auto& config = m_model.config();
    const int count = m_model.num_layers();
    const std::int64_t windows = m_ids.size(0), length = m_ids.size(1);
    const std::int64_t batch = std::max<std::int64_t>(1, kTokensPerBatch / length);
    invalidate_from(std::max(0, first_changed));

    // Resume from the latest cached boundary <= first_changed.
    int from = 0;
    torch::Tensor hidden;
    for (const auto& [b, t] : m_boundaries)
        if (b <= first_changed) {
            from = b;
            hidden = t;
        }
    if (!hidden.defined()) {
        std::vector<torch::Tensor> parts;
        for (std::int64_t b = 0; b < windows; b += batch)
            parts.push_back(m_model.embed(m_ids.slice(0, b, b + batch).to(m_model.device())));
        hidden = torch::cat(parts, 0);
        m_boundaries[0] = hidden;
        from = 0;
    }
    auto context = make_layer_context(config, length, m_model.device());
    m_layers_run = 0;
    for (int layer = from; layer < count; ++layer) {
        report(feedback, double(layer - from) / std::max(1, count - from),
               "layer " + std::to_string(layer));
        if (feedback) feedback->check_cancelled();
        LayerWeights weights = layers(layer);
        std::vector<torch::Tensor> parts;
        for (std::int64_t b = 0; b < windows; b += batch)
            parts.push_back(
                decoder_layer_forward(config, weights, hidden.slice(0, b, b + batch), context));
        hidden = torch::cat(parts, 0);
        ++m_layers_run;
        if ((layer + 1) % m_stride == 0 || layer + 1 == count) m_boundaries[layer + 1] = hidden;
    }

    HeadWeights head = m_model.load_head();
    double nll_sum = 0;
    for (std::int64_t b = 0; b < windows; b += batch) {
        auto h = hidden.slice(0, b, b + batch);
        auto logits = m_model.head(h, head);
        auto targets = m_ids.slice(0, b, b + h.size(0)).slice(1, 1).to(m_model.device());
        auto log_probs = torch::log_softmax(logits.slice(1, 0, length - 1), -1);
        nll_sum +=
            (-log_probs.gather(-1, targets.unsqueeze(-1))).to(torch::kFloat64).sum().item<double>();
    }
    PerplexityResult r;
    r.tokens = m_tokens;
    r.windows = windows;
    r.window_length = length;
    r.partial_window = m_partial;
    r.scored_tokens = windows * (length - 1);
    r.mean_nll = nll_sum / double(r.scored_tokens);
    r.ppl = std::exp(r.mean_nll);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report(feedback, 1.0, "done");
    return r;
}

}  // namespace qs
