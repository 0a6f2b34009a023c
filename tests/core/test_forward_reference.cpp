// The forward pass against llama2.c's own C forward pass on stories260K (shared/reference):
// logits within 1e-4 absolute, perplexity 1.470701 within 1e-4 relative, greedy tokens equal.
#include <cmath>
#include <iostream>

#include <torch/types.h>

#include "core/eval/generate.h"
#include "core/eval/perplexity.h"
#include "core/model/causal_lm.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

std::vector<std::int32_t> story_tokens()
{
    return test::read_raw<std::int32_t>(test::stories_reference("story.tokens.i32"));
}

TEST(ForwardReference, LogitsMatchLlama2c)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir(), torch::kCPU, /*with_tokenizer=*/false);
    auto tokens = story_tokens();
    ASSERT_EQ(tokens.size(), 62u);
    auto expected_values = test::read_raw<float>(test::stories_reference("story.logits.f32"));
    ASSERT_EQ(expected_values.size(), 62u * 512u);
    auto ids = torch::tensor(std::vector<std::int64_t>(tokens.begin(), tokens.end())).unsqueeze(0);
    auto logits = model->forward(ids).squeeze(0);
    auto expected = torch::from_blob(expected_values.data(), {62, 512}, torch::kFloat32);
    const double max_diff = (logits - expected).abs().max().item<double>();
    EXPECT_LT(max_diff, 1e-4) << "max |logit - reference| = " << max_diff;
    std::cout << "max |logit - llama2.c logit| over 62 x 512 = " << max_diff << "\n";
}

TEST(ForwardReference, PerplexityOfStory)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir(), torch::kCPU, false);
    PerplexityOptions options;
    options.seqlen = 512;
    auto r = evaluate_perplexity(*model, story_tokens(), options);
    EXPECT_TRUE(r.partial_window);
    EXPECT_EQ(r.scored_tokens, 61);
    EXPECT_NEAR(r.ppl, 1.470701, 1.470701 * 1e-4) << "expected 1.470701, got " << r.ppl;
}

TEST(ForwardReference, WindowsAreIndependentAndTailDropped)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir(), torch::kCPU, false);
    auto tokens = story_tokens();
    PerplexityOptions options;
    options.seqlen = 20;  // 62 tokens -> 3 windows, 2 tokens dropped
    auto r = evaluate_perplexity(*model, tokens, options);
    EXPECT_EQ(r.windows, 3);
    EXPECT_EQ(r.scored_tokens, 3 * 19);
    // Same value when each window is scored on its own through forward().
    double nll = 0;
    for (int w = 0; w < 3; ++w) {
        auto ids = torch::tensor(std::vector<std::int64_t>(tokens.begin() + w * 20,
                                                           tokens.begin() + w * 20 + 20))
                       .unsqueeze(0);
        auto logp = torch::log_softmax(model->forward(ids).squeeze(0), -1);
        for (int t = 0; t < 19; ++t)
            nll -= logp[t][ids[0][t + 1].item<std::int64_t>()].item<double>();
    }
    EXPECT_NEAR(r.ppl, std::exp(nll / 57.0), 1e-6 * r.ppl);
    options.limit_windows = 2;
    EXPECT_EQ(evaluate_perplexity(*model, tokens, options).windows, 2);
}

TEST(ForwardReference, GreedyMatchesLlama2c)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir(), torch::kCPU, true);
    auto expected = test::read_raw<std::int32_t>(test::stories_reference("story.greedy.i32"));
    GenerateOptions options;
    options.max_new_tokens = static_cast<std::int64_t>(expected.size());
    auto generated = generate_greedy(*model, story_tokens(), options);
    EXPECT_EQ(generated, expected);
}

TEST(ForwardReference, OpeningReadsNoWeights)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir(), torch::kCPU, false);
    EXPECT_EQ(model->num_layers(), 5);
    auto layer = model->load_layer(4);
    EXPECT_EQ(layer.get("self_attn.k_proj.weight").sizes(), (std::vector<std::int64_t>{32, 64}));
    EXPECT_THROW(model->load_layer(5), QsError);
}

}  // namespace
}  // namespace qs
