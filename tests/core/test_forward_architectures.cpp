// Forward-pass properties every supported architecture must have, on tiny random checkpoints:
// causality (a logit never sees a later token), tied embeddings, and perplexity batching (many
// windows in one batch give what one forward() per window gives).
#include <cmath>

#include <torch/torch.h>

#include "core/eval/perplexity.h"
#include "core/model/causal_lm.h"
#include "core/model/random_llama.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

using test::SyntheticCheckpoint;

// One checkpoint per architecture variant the forward pass branches on.
SyntheticCheckpoint variant(const std::string& name)
{
    if (name == "llama_gqa") return test::synthetic_llama_family("llama", 2, 11);
    if (name == "qwen2_bias") return test::synthetic_llama_family("qwen2", 2, 12);
    if (name == "mistral_window") {
        auto c = test::synthetic_llama_family("mistral", 4, 13);
        c.config["sliding_window"] = 4;  // shorter than the test sequence, so it masks
        return c;
    }
    if (name == "llama3_rope") {
        auto c = test::synthetic_llama_family("llama", 2, 14);
        // A small original context so that most of the 4 frequencies are rescaled even at the
        // short lengths used here.
        c.config["rope_scaling"] = {{"rope_type", "llama3"},
                                    {"factor", 4.0},
                                    {"low_freq_factor", 1.0},
                                    {"high_freq_factor", 4.0},
                                    {"original_max_position_embeddings", 64}};
        return c;
    }
    if (name == "llama_tied") {
        auto c = test::synthetic_llama_family("llama", 4, 15);
        c.config["tie_word_embeddings"] = true;
        c.tensors.erase("lm_head.weight");
        return c;
    }
    if (name == "opt_pre_ln") return test::synthetic_opt(true, 32, 16);
    if (name == "opt_post_ln") return test::synthetic_opt(false, 32, 17);
    if (name == "opt_project") return test::synthetic_opt(false, 16, 18);  // as opt-350m
    throw std::invalid_argument("unknown variant " + name);
}

class ForwardArchCausality : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardArchCausality, EarlierLogitsIgnoreLaterTokens)
{
    test::TempDir dir;
    auto model = variant(GetParam()).open(dir.path());
    const std::int64_t length = 12;
    const auto ids = test::random_tokens(length, 21);
    const auto logits = test::logits_of(*model, ids);
    ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{length, test::kVocab}));
    ASSERT_TRUE(torch::isfinite(logits).all().item<bool>());

    for (std::int64_t cut : {1, 6, 11}) {
        auto changed = ids;
        for (std::int64_t t = cut; t < length; ++t)
            changed[t] = (ids[t] + 1 + t) % test::kVocab;  // differs from ids[t]
        const auto other = test::logits_of(*model, changed);
        const auto before = logits.slice(0, 0, cut), before_other = other.slice(0, 0, cut);
        EXPECT_LT(test::max_abs_diff(before, before_other), 1e-5)
            << "positions < " << cut << ": " << test::describe_max_diff(before, before_other);
        // The edit must reach the positions it touched, or the check above proves nothing.
        EXPECT_GT(test::max_abs_diff(logits.slice(0, cut), other.slice(0, cut)), 1e-3)
            << "changing tokens >= " << cut << " did not change their logits";
    }
}

INSTANTIATE_TEST_SUITE_P(ForwardArch, ForwardArchCausality,
                         ::testing::Values("llama_gqa", "qwen2_bias", "mistral_window",
                                           "llama3_rope", "llama_tied", "opt_pre_ln", "opt_post_ln",
                                           "opt_project"),
                         [](const auto& info) { return info.param; });

TEST(ForwardArchTied, TiedHeadIsTheTokenEmbedding)
{
    test::TempDir dir;
    auto tied = variant("llama_tied");
    auto untied = tied;
    untied.config["tie_word_embeddings"] = false;
    untied.tensors["lm_head.weight"] = tied.at("model.embed_tokens.weight").clone();
    auto tied_model = tied.open(dir.file("tied"));
    auto untied_model = untied.open(dir.file("untied"));
    EXPECT_EQ(tied_model->store().info("model.embed_tokens.weight").shape,
              (std::vector<std::int64_t>{test::kVocab, 32}));
    EXPECT_FALSE(tied_model->store().contains("lm_head.weight"));

    const auto ids = test::random_tokens(10, 22);
    const auto expected = test::logits_of(*untied_model, ids);
    const auto actual = test::logits_of(*tied_model, ids);
    EXPECT_TRUE(torch::equal(expected, actual)) << test::describe_max_diff(expected, actual);
}

// NLL summed over every window scored on its own, as the GPTQ protocol defines perplexity.
double perplexity_by_forward(const CausalLM& model, const std::vector<std::int32_t>& tokens,
                             std::int64_t seqlen, std::int64_t windows)
{
    double nll = 0;
    for (std::int64_t w = 0; w < windows; ++w) {
        std::vector<std::int64_t> ids(tokens.begin() + w * seqlen,
                                      tokens.begin() + (w + 1) * seqlen);
        auto logp = torch::log_softmax(test::logits_of(model, ids).to(torch::kFloat64), -1);
        for (std::int64_t t = 0; t + 1 < seqlen; ++t)
            nll -= logp[t][ids[t + 1]].item<double>();
    }
    return std::exp(nll / double(windows * (seqlen - 1)));
}

class ForwardArchPerplexity : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardArchPerplexity, BatchedWindowsEqualOneForwardPerWindow)
{
    test::TempDir dir;
    auto model = variant(GetParam()).open(dir.path());
    const std::int64_t seqlen = 16, windows = 10;
    auto ids = test::random_tokens(windows * seqlen + 7, 24);  // 7-token tail is dropped
    const std::vector<std::int32_t> tokens(ids.begin(), ids.end());
    const double expected = perplexity_by_forward(*model, tokens, seqlen, windows);

    PerplexityOptions options;
    options.seqlen = seqlen;
    // Default budget: all 10 windows in one group and one [10, 16] batch. Budget 0: one window
    // per group, so the group loop and the per-group head are exercised too.
    for (std::int64_t budget : {std::int64_t(2048), std::int64_t(0)}) {
        options.memory_budget_mb = budget;
        const auto r = evaluate_perplexity(*model, tokens, options);
        EXPECT_EQ(r.windows, windows);
        EXPECT_EQ(r.scored_tokens, windows * (seqlen - 1));
        EXPECT_FALSE(r.partial_window);
        EXPECT_NEAR(r.ppl, expected, 1e-6 * expected)
            << "budget " << budget << " MB: expected " << expected << ", actual " << r.ppl
            << ", difference " << r.ppl - expected;
    }
}

INSTANTIATE_TEST_SUITE_P(ForwardArch, ForwardArchPerplexity,
                         ::testing::Values("llama_gqa", "mistral_window", "opt_project"),
                         [](const auto& info) { return info.param; });

// A large vocabulary makes the scoring run in token chunks (64 MiB of logits each: 419 tokens of
// 40000 words) that cross window boundaries: the same perplexity as scoring each window whole.
TEST(ForwardArchPerplexityChunks, LargeVocabularyIsScoredInChunks)
{
    test::TempDir dir;
    RandomLlamaSpec spec;
    spec.hidden_size = 64;
    spec.intermediate_size = 128;
    spec.num_layers = 1;
    spec.num_heads = 4;
    spec.num_kv_heads = 2;
    spec.vocab_size = 40000;
    write_random_llama(spec, dir.file("m"), false);
    auto model = CausalLM::open(dir.file("m"), torch::kCPU, false);
    const std::int64_t seqlen = 300, windows = 3;
    torch::manual_seed(3);
    auto ids = torch::randint(0, spec.vocab_size, {windows * seqlen}, torch::kInt32);
    const std::vector<std::int32_t> tokens(ids.data_ptr<std::int32_t>(),
                                           ids.data_ptr<std::int32_t>() + ids.numel());
    const double expected = perplexity_by_forward(*model, tokens, seqlen, windows);
    PerplexityOptions options;
    options.seqlen = seqlen;
    const auto r = evaluate_perplexity(*model, tokens, options);
    EXPECT_EQ(r.scored_tokens, windows * (seqlen - 1));
    EXPECT_NEAR(r.ppl, expected, 1e-6 * expected);
    EXPECT_GT(r.ppl, 1000.0);  // random weights: near-uniform over 40000 words
}

}  // namespace
}  // namespace qs
