#include "core/eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/model/layer_stream.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {
namespace {

// Windows run through a layer together: bounded by the attention score size (heads x T x T
// floats) and by the number of tokens, so small models batch many windows and large ones one.
std::int64_t windows_per_batch(const ModelConfig& config, std::int64_t length)
{
    const std::int64_t score_elements = config.num_heads * length * length;
    const std::int64_t by_scores =
        std::max<std::int64_t>(1, (std::int64_t(1) << 27) / score_elements);
    const std::int64_t by_tokens = std::max<std::int64_t>(1, 16384 / length);
    return std::min(by_scores, by_tokens);
}

// Rows of [tokens, vocab] float32 logits scored at a time: 64 MiB (524 tokens of a 32000-word
// vocabulary, a whole window of a small model), so the logits and their log-softmax stay far
// below a decoder layer instead of 2 x 0.25 GiB per 2048-token window at Llama-2 sizes.
constexpr std::int64_t kScoredLogitElements = std::int64_t(1) << 24;

// Sum over every position of -log p(target | hidden) through the head, in float64.
// hidden [n, T, dim], targets [n, T].
double summed_nll(const CausalLM& model, const HeadWeights& head, const torch::Tensor& hidden,
                  const torch::Tensor& targets)
{
    const auto flat_hidden = hidden.reshape({1, -1, hidden.size(-1)});
    const auto flat_targets = targets.reshape({-1});
    const auto rows = flat_targets.size(0);
    const auto chunk = std::max<std::int64_t>(
        1, kScoredLogitElements / std::max<std::int64_t>(1, model.config().vocab_size));
    double sum = 0;
    for (std::int64_t r = 0; r < rows; r += chunk) {
        const auto end = std::min(rows, r + chunk);
        auto logits = model.head(flat_hidden.slice(1, r, end), head).squeeze(0);  // float32
        auto log_probs = torch::log_softmax(logits, -1);
        auto nll = -log_probs.gather(-1, flat_targets.slice(0, r, end).unsqueeze(-1));
        sum += nll.to(torch::kFloat64).sum().item<double>();
    }
    return sum;
}

}  // namespace

PerplexityResult evaluate_perplexity(const CausalLM& model, const std::vector<std::int32_t>& tokens,
                                     const PerplexityOptions& options, Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    const auto& config = model.config();
    if (options.seqlen < 2) throw QsError("seqlen must be at least 2");
    if (tokens.size() < 2)
        throw QsError("dataset has " + std::to_string(tokens.size()) +
                      " token(s): nothing to predict (need at least 2)");

    PerplexityResult result;
    result.tokens = static_cast<std::int64_t>(tokens.size());
    result.window_length = options.seqlen;
    result.windows = result.tokens / options.seqlen;
    if (result.windows == 0) {
        result.partial_window = true;
        result.window_length = result.tokens;
        result.windows = 1;
    }
    if (options.limit_windows > 0) result.windows = std::min(result.windows, options.limit_windows);
    const std::int64_t length = result.window_length;

    auto all_ids = torch::from_blob(const_cast<std::int32_t*>(tokens.data()),
                                    {result.windows * length}, torch::kInt32)
                       .to(torch::kLong)
                       .view({result.windows, length});

    // Windows are processed in groups whose hidden states fit the memory budget; inside a group
    // every layer is loaded once and applied batch by batch.
    const std::int64_t window_bytes =
        length * config.hidden_size * c10::elementSize(model.compute_dtype());
    const std::int64_t group_size = std::clamp<std::int64_t>(
        options.memory_budget_mb * (1 << 20) / std::max<std::int64_t>(window_bytes, 1), 1,
        result.windows);
    const std::int64_t batch = windows_per_batch(config, length);
    auto context = make_layer_context(config, length, model.device());
    const int layers = model.num_layers();
    const double steps = double(result.windows) * (layers + 1);

    double nll_sum = 0;
    std::int64_t done = 0;
    for (std::int64_t g0 = 0; g0 < result.windows; g0 += group_size) {
        const std::int64_t g1 = std::min(result.windows, g0 + group_size);
        std::vector<torch::Tensor> hidden;
        for (std::int64_t b = g0; b < g1; b += batch)
            hidden.push_back(
                model.embed(all_ids.slice(0, b, std::min(g1, b + batch)).to(model.device())));
        LayerStream stream(model);  // the next layer loads while this one runs
        for (int layer = 0; layer < layers; ++layer) {
            report(feedback, (double(g0) * (layers + 1) + double(g1 - g0) * layer) / steps,
                   "layer " + std::to_string(layer) + ", windows " + std::to_string(g0) + "-" +
                       std::to_string(g1 - 1) + " of " + std::to_string(result.windows));
            LayerWeights weights = stream.next();
            for (auto& h : hidden)
                h = decoder_layer_forward(config, weights, h, context);
        }
        report(feedback, (double(g0) * (layers + 1) + double(g1 - g0) * layers) / steps, "scoring");
        HeadWeights head = model.load_head();
        std::int64_t b = g0;
        for (auto& h : hidden) {
            const auto n = h.size(0);
            auto targets = all_ids.slice(0, b, b + n).slice(1, 1).to(model.device());
            nll_sum += summed_nll(model, head, h.slice(1, 0, length - 1), targets);
            b += n;
            h = torch::Tensor();
        }
        done = g1;
    }
    result.scored_tokens = done * (length - 1);
    result.mean_nll = nll_sum / double(result.scored_tokens);
    result.ppl = std::exp(result.mean_nll);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report(feedback, 1.0, "done");
    return result;
}

}  // namespace qs
