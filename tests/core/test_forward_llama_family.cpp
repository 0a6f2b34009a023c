// Llama-family semantics that a plausible implementation mistake would break, each checked on a
// tiny random checkpoint against a property that holds in Hugging Face transformers: GQA's kv
// head sharing (repeat_kv), Mistral's sliding-window edge, Qwen2's q/k/v biases and Llama 3.1
// RoPE frequency scaling (_compute_llama3_parameters).
#include <cmath>

#include <torch/torch.h>

#include "core/model/causal_lm.h"
#include "core/model/model_config.h"
#include "core/model/rope.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

using test::SyntheticCheckpoint;

constexpr std::int64_t kHeadDim = 8;  // synthetic_llama_family: 4 heads of 8

// k/v projections of a GQA checkpoint expanded to one kv head per query head; `kv_of_head[h]`
// names the kv head whose rows query head h receives.
SyntheticCheckpoint expand_kv_heads(SyntheticCheckpoint c,
                                    const std::vector<std::int64_t>& kv_of_head)
{
    const auto heads = static_cast<std::int64_t>(kv_of_head.size());
    c.config["num_key_value_heads"] = heads;
    auto index = torch::tensor(kv_of_head);
    for (auto& [name, tensor] : c.tensors) {
        const bool kv = name.find("k_proj.weight") != std::string::npos ||
                        name.find("v_proj.weight") != std::string::npos;
        if (!kv) continue;
        auto per_head = tensor.view({-1, kHeadDim, tensor.size(1)});
        tensor = per_head.index_select(0, index).reshape({heads * kHeadDim, tensor.size(1)});
    }
    return c;
}

TEST(ForwardArchLlamaFamily, GqaEqualsRepeatedKvHeads)
{
    // HF repeat_kv: kv head j serves query heads j*group .. j*group+group-1 (here group 2).
    test::TempDir dir;
    const auto gqa = test::synthetic_llama_family("llama", 2, 31);
    const auto ids = test::random_tokens(12, 32);
    const auto expected =
        test::logits_of(*expand_kv_heads(gqa, {0, 0, 1, 1}).open(dir.file("mha")), ids);
    const auto actual = test::logits_of(*gqa.open(dir.file("gqa")), ids);
    EXPECT_LT(test::max_abs_diff(expected, actual), 1e-5)
        << test::describe_max_diff(expected, actual);

    // The interleaved assignment (head h -> kv h % 2) is the classic mistake; it must differ, or
    // the comparison above could not tell the two apart.
    const auto wrong =
        test::logits_of(*expand_kv_heads(gqa, {0, 1, 0, 1}).open(dir.file("bad")), ids);
    EXPECT_GT(test::max_abs_diff(wrong, actual), 1e-3);
}

TEST(ForwardArchLlamaFamily, SlidingWindowAtLeastSequenceIsNoWindow)
{
    test::TempDir dir;
    auto plain = test::synthetic_llama_family("mistral", 2, 33);
    const auto ids = test::random_tokens(12, 34);
    const auto expected = test::logits_of(*plain.open(dir.file("plain")), ids);
    for (std::int64_t window : {12, 13, 4096}) {
        auto windowed = plain;
        windowed.config["sliding_window"] = window;
        const auto dir_name = dir.file("w" + std::to_string(window));
        const auto actual = test::logits_of(*windowed.open(dir_name), ids);
        EXPECT_LT(test::max_abs_diff(expected, actual), 1e-6)
            << "sliding_window " << window << ": " << test::describe_max_diff(expected, actual);
    }
}

TEST(ForwardArchLlamaFamily, SlidingWindowOfOneSeesOnlyItsOwnToken)
{
    // Each layer attends to the token itself only, so position t depends on token t (and on t
    // through RoPE) and on nothing else: any other tokens give the same logits at t.
    test::TempDir dir;
    auto c = test::synthetic_llama_family("mistral", 2, 35);
    c.config["sliding_window"] = 1;
    auto model = c.open(dir.path());
    const std::int64_t length = 10;
    const auto ids = test::random_tokens(length, 36);
    const auto others = test::random_tokens(length, 37);
    const auto logits = test::logits_of(*model, ids);
    for (std::int64_t t = 0; t < length; ++t) {
        auto mixed = others;
        mixed[t] = ids[t];
        const auto actual = test::logits_of(*model, mixed)[t];
        EXPECT_LT(test::max_abs_diff(logits[t], actual), 1e-5)
            << "position " << t << ": " << test::describe_max_diff(logits[t], actual);
    }
}

TEST(ForwardArchLlamaFamily, SlidingWindowReceptiveFieldEdge)
{
    // Window 3 (a token and the 2 before it) over 2 layers: position t sees tokens t-4 .. t.
    // Token t-5 must not matter and token t-4 must: an off-by-one in the mask moves the edge.
    test::TempDir dir;
    auto c = test::synthetic_llama_family("mistral", 2, 38);
    c.config["sliding_window"] = 3;
    auto model = c.open(dir.path());
    const std::int64_t t = 10;
    const auto ids = test::random_tokens(12, 39);
    const auto expected = test::logits_of(*model, ids)[t];

    auto far = ids;
    for (std::int64_t s = 0; s <= t - 5; ++s)
        far[s] = (ids[s] + 1) % test::kVocab;
    const auto unchanged = test::logits_of(*model, far)[t];
    EXPECT_LT(test::max_abs_diff(expected, unchanged), 1e-5)
        << "tokens 0.." << t - 5 << " changed: " << test::describe_max_diff(expected, unchanged);

    auto edge = ids;
    edge[t - 4] = (ids[t - 4] + 1) % test::kVocab;
    EXPECT_GT(test::max_abs_diff(expected, test::logits_of(*model, edge)[t]), 1e-4)
        << "token " << t - 4 << " is inside the receptive field but had no effect";
}

TEST(ForwardArchLlamaFamily, Qwen2UsesEachQkvBias)
{
    test::TempDir dir;
    const auto qwen = test::synthetic_llama_family("qwen2", 2, 40);
    auto model = qwen.open(dir.file("qwen"));
    // Qwen2Attention has bias on q, k, v but none on o_proj: the checkpoint has no o_proj.bias
    // and must still open and run.
    EXPECT_FALSE(model->store().contains("model.layers.0.self_attn.o_proj.bias"));
    EXPECT_TRUE(model->config().attention_bias);
    EXPECT_FALSE(model->config().o_proj_bias);
    const auto ids = test::random_tokens(12, 41);
    const auto logits = test::logits_of(*model, ids);

    for (const char* proj : {"q_proj", "k_proj", "v_proj"}) {
        auto zeroed = qwen;
        for (auto& [name, tensor] : zeroed.tensors)
            if (name.find(std::string(proj) + ".bias") != std::string::npos)
                tensor = torch::zeros_like(tensor);
        const auto other = test::logits_of(*zeroed.open(dir.file(proj)), ids);
        EXPECT_GT(test::max_abs_diff(logits, other), 1e-3)
            << "zeroing the " << proj << " biases did not change the logits";
    }
}

TEST(ForwardArchLlamaFamily, Llama3RopeScalingMatchesTransformersFormula)
{
    const auto config = ModelConfig::parse(R"({
        "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 1, "num_attention_heads": 32, "vocab_size": 16,
        "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}})",
                                           "llama3.json");
    ASSERT_EQ(config.head_dim, 128);
    const auto actual = rope_inverse_frequencies(config).to(torch::kFloat64);
    ASSERT_EQ(actual.numel(), 64);

    // transformers' _compute_llama3_parameters, in double precision.
    const double factor = 8, low = 1, high = 4, old_context = 8192;
    int high_band = 0, medium_band = 0, low_band = 0;
    for (int i = 0; i < 64; ++i) {
        const double base = 1.0 / std::pow(500000.0, 2.0 * i / 128.0);
        const double wavelen = 2 * M_PI / base;
        double expected = base;
        if (wavelen < old_context / high) {
            ++high_band;  // short wavelengths: unchanged
        } else if (wavelen > old_context / low) {
            expected = base / factor;
            ++low_band;
        } else {
            const double smooth = (old_context / wavelen - low) / (high - low);
            expected = (1 - smooth) * base / factor + smooth * base;
            ++medium_band;
        }
        const double got = actual[i].item<double>();
        EXPECT_NEAR(got, expected, 1e-5 * expected)
            << "inv_freq[" << i << "] (wavelength " << wavelen << "): expected " << expected
            << ", actual " << got << ", difference " << got - expected;
    }
    // Wavelengths cross 2048 between i=28 and 29 and 8192 between i=34 and 35.
    EXPECT_EQ(high_band, 29);
    EXPECT_EQ(medium_band, 6);
    EXPECT_EQ(low_band, 29);
}

TEST(ForwardArchLlamaFamily, RopeScalingReachesTheForwardPass)
{
    test::TempDir dir;
    auto scaled = test::synthetic_llama_family("llama", 2, 42);
    auto plain = scaled;
    // A small original context so that most frequencies of head_dim 8 are rescaled.
    scaled.config["rope_scaling"] = {{"rope_type", "llama3"},
                                     {"factor", 4.0},
                                     {"low_freq_factor", 1.0},
                                     {"high_freq_factor", 4.0},
                                     {"original_max_position_embeddings", 64}};
    const auto ids = test::random_tokens(12, 43);
    const auto a = test::logits_of(*scaled.open(dir.file("scaled")), ids);
    const auto b = test::logits_of(*plain.open(dir.file("plain")), ids);
    // Position 0 rotates by angle 0 under any frequency, so it must agree; later ones must not.
    EXPECT_LT(test::max_abs_diff(a[0], b[0]), 1e-5) << test::describe_max_diff(b[0], a[0]);
    EXPECT_GT(test::max_abs_diff(a.slice(0, 1), b.slice(0, 1)), 1e-3);
}

}  // namespace
}  // namespace qs
