#include "core/quant/calibration.h"

#include <random>

#include "core/eval/cached_decoder.h"
#include "core/eval/dataset_text.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {
namespace {

torch::Tensor windows_from_text(const CausalLM& model, const CalibrationSettings& s)
{
    const std::string text = load_eval_text(s.dataset);
    const auto tokens = model.tokenizer().encode(text);
    const auto n = static_cast<std::int64_t>(tokens.size());
    if (n <= s.seqlen)
        fail_file(s.dataset, "calibration text has " + std::to_string(n) +
                                 " tokens, not more than one window of " +
                                 std::to_string(s.seqlen));
    std::mt19937_64 rng(s.seed);
    std::uniform_int_distribution<std::int64_t> start(0, n - s.seqlen - 1);
    auto out = torch::empty({s.samples, s.seqlen}, torch::kLong);
    auto* data = out.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < s.samples; ++i) {
        const auto b = start(rng);
        for (std::int64_t t = 0; t < s.seqlen; ++t)
            data[i * s.seqlen + t] = tokens[b + t];
    }
    return out;
}

// Data-free: all samples grow together, one token per step, sampled from softmax(logits). The
// samples share one generator, drawn from step by step, so they must grow in lockstep for the
// tokens to depend only on the seed. Each step runs only the new tokens against a KV cache
// (cached_decoder.h): about one forward over samples x seqlen tokens in all, where re-running
// the growing windows cost seqlen/2 of them. The decoder re-runs the windows as before when
// the cache would not fit its budget (8 GiB: 128 x 512 tokens of a 7B model need 64 GiB).
torch::Tensor windows_from_model(const CausalLM& model, const CalibrationSettings& s,
                                 Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    const auto bos = model.tokenizer().bos_id();
    auto ids = torch::full({s.samples, 1}, bos >= 0 ? bos : 0, torch::kLong);
    auto generator = at::detail::createCPUGenerator(s.seed);
    CachedDecoder decoder(model, s.samples, s.seqlen);
    torch::Tensor fed = ids;  // the tokens the decoder has not seen yet
    for (std::int64_t t = 1; t < s.seqlen; ++t) {
        report(feedback, double(t) / s.seqlen,
               "generating calibration text, token " + std::to_string(t));
        auto probs = torch::softmax(decoder.step(fed), -1).to(torch::kCPU);
        fed = torch::multinomial(probs, 1, false, generator);
        ids = torch::cat({ids, fed}, 1);
    }
    return ids;
}

}  // namespace

torch::Tensor calibration_windows(const CausalLM& model, const CalibrationSettings& settings,
                                  Feedback* feedback)
{
    if (settings.samples < 1 || settings.seqlen < 2)
        throw QsError("calibration needs samples >= 1 and seqlen >= 2");
    return settings.dataset.empty() ? windows_from_model(model, settings, feedback)
                                    : windows_from_text(model, settings);
}

CalibrationSettings fit_calibration_to_context(const CalibrationSettings& settings,
                                               const ModelConfig& config,
                                               std::vector<std::string>& warnings)
{
    CalibrationSettings fitted = settings;
    const std::int64_t context = config.max_position_embeddings;
    if (context > 1 && settings.seqlen > context) {
        fitted.seqlen = context;
        warnings.push_back("calibration seqlen " + std::to_string(settings.seqlen) +
                           " is longer than the model's context (" + std::to_string(context) +
                           " tokens): calibrating on windows of " + std::to_string(context));
    }
    return fitted;
}

}  // namespace qs
