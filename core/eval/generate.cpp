#include "core/eval/generate.h"

#include <algorithm>

#include "core/eval/cached_decoder.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {

std::vector<std::int32_t> generate_greedy(const CausalLM& model,
                                          const std::vector<std::int32_t>& prompt,
                                          const GenerateOptions& options, Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    if (prompt.empty()) throw QsError("the prompt encodes to no tokens");
    const auto context_limit = model.config().max_position_embeddings;
    std::vector<std::int32_t> generated;
    if (options.max_new_tokens <= 0) return generated;
    auto length = std::int64_t(prompt.size()) + options.max_new_tokens;
    if (context_limit > 0) length = std::min(length, context_limit);
    DecoderOptions decoder_options;
    decoder_options.kv_cache = options.kv_cache;
    CachedDecoder decoder(model, 1, length, decoder_options);
    std::vector<std::int32_t> step_tokens = prompt;  // the prompt, then the last new token
    for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
        // As many positions as the model has: the sequence so far must leave room for one more.
        const auto sequence = decoder.length() + std::int64_t(step_tokens.size());
        if (context_limit > 0 && sequence >= context_limit) break;
        report(
            feedback, double(step) / options.max_new_tokens,
            "token " + std::to_string(step + 1) + " of " + std::to_string(options.max_new_tokens));
        auto ids = torch::tensor(std::vector<std::int64_t>(step_tokens.begin(), step_tokens.end()),
                                 torch::kLong)
                       .unsqueeze(0);
        auto logits = decoder.step(ids);
        auto next = static_cast<std::int32_t>(logits.argmax(-1).item<std::int64_t>());
        generated.push_back(next);
        step_tokens = {next};
        if (options.stop_at_eos && next == model.tokenizer().eos_id()) break;
    }
    return generated;
}

}  // namespace qs
