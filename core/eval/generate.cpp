#include "core/eval/generate.h"

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
    std::vector<std::int32_t> sequence = prompt;
    std::vector<std::int32_t> generated;
    HeadWeights head = model.load_head();
    for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
        if (context_limit > 0 && std::int64_t(sequence.size()) >= context_limit) break;
        report(
            feedback, double(step) / options.max_new_tokens,
            "token " + std::to_string(step + 1) + " of " + std::to_string(options.max_new_tokens));
        auto ids =
            torch::tensor(std::vector<std::int64_t>(sequence.begin(), sequence.end()), torch::kLong)
                .unsqueeze(0)
                .to(model.device());
        auto hidden = model.embed(ids);
        auto context = make_layer_context(model.config(), ids.size(1), model.device());
        for (int layer = 0; layer < model.num_layers(); ++layer)
            hidden =
                decoder_layer_forward(model.config(), model.load_layer(layer), hidden, context);
        auto logits = model.head(hidden.slice(1, -1), head);
        auto next = static_cast<std::int32_t>(logits.argmax(-1).item<std::int64_t>());
        generated.push_back(next);
        sequence.push_back(next);
        if (options.stop_at_eos && next == model.tokenizer().eos_id()) break;
    }
    return generated;
}

}  // namespace qs
