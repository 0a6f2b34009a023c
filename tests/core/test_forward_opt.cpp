// OPT forward pass on tiny random checkpoints: against a direct transcription of HF
// modeling_opt (per-head loop, explicit mask), plus the details that transcription would share
// a mistake with if both were wrong the same way: learned positions start at row 2, the
// do_layer_norm_before flag is honoured, post-LN layers end normalised.
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "core/model/causal_lm.h"
#include "core/model/decoder_layer.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

using test::SyntheticCheckpoint;

// HF OPTForCausalLM for one sequence, from the checkpoint tensors: OPTLearnedPositionalEmbedding
// (offset 2), OPTDecoderLayer (pre- or post-LN), OPTDecoder (final_layer_norm, project_in/out),
// lm_head tied to embed_tokens.
torch::Tensor reference_opt_logits(SyntheticCheckpoint& c, const std::vector<std::int64_t>& ids)
{
    const bool pre = c.config["do_layer_norm_before"].get<bool>();
    const auto heads = c.config["num_attention_heads"].get<std::int64_t>();
    const auto layers = c.config["num_hidden_layers"].get<std::int64_t>();
    const auto length = static_cast<std::int64_t>(ids.size());
    auto w = [&](const std::string& name) { return c.at("model.decoder." + name); };
    auto ln = [&](const std::string& name, const torch::Tensor& x) {
        return torch::layer_norm(x, {x.size(-1)}, w(name + ".weight"), w(name + ".bias"), 1e-5);
    };
    auto lin = [&](const std::string& name, const torch::Tensor& x) {
        return torch::linear(x, w(name + ".weight"), w(name + ".bias"));
    };

    auto x = w("embed_tokens.weight").index_select(0, torch::tensor(ids));
    if (c.tensors.count("model.decoder.project_in.weight"))
        x = torch::linear(x, w("project_in.weight"));
    x = x + w("embed_positions.weight").slice(0, 2, 2 + length);
    const auto future = torch::ones({length, length}, torch::kBool).triu(1);
    for (std::int64_t i = 0; i < layers; ++i) {
        const std::string p = "layers." + std::to_string(i) + ".";
        auto residual = x;
        if (pre) x = ln(p + "self_attn_layer_norm", x);
        const auto dim = x.size(-1) / heads;
        auto q = lin(p + "self_attn.q_proj", x) / std::sqrt(double(dim));
        auto k = lin(p + "self_attn.k_proj", x), v = lin(p + "self_attn.v_proj", x);
        std::vector<torch::Tensor> outputs;
        for (std::int64_t h = 0; h < heads; ++h) {
            auto cols = [&](const torch::Tensor& t) { return t.slice(1, h * dim, (h + 1) * dim); };
            auto scores = cols(q)
                              .matmul(cols(k).t())
                              .masked_fill(future, -std::numeric_limits<float>::infinity());
            outputs.push_back(torch::softmax(scores, -1).matmul(cols(v)));
        }
        x = residual + lin(p + "self_attn.out_proj", torch::cat(outputs, 1));
        if (!pre) x = ln(p + "self_attn_layer_norm", x);
        residual = x;
        if (pre) x = ln(p + "final_layer_norm", x);
        x = residual + lin(p + "fc2", torch::relu(lin(p + "fc1", x)));
        if (!pre) x = ln(p + "final_layer_norm", x);
    }
    if (pre) x = ln("final_layer_norm", x);
    if (c.tensors.count("model.decoder.project_out.weight"))
        x = torch::linear(x, w("project_out.weight"));
    return torch::linear(x, w("embed_tokens.weight"));
}

struct OptVariant {
    const char* name;
    bool pre_ln;
    std::int64_t word_embed_proj_dim;
};

class ForwardOptReference : public ::testing::TestWithParam<OptVariant> {};

TEST_P(ForwardOptReference, LogitsMatchTransformersTranscription)
{
    test::TempDir dir;
    auto c = test::synthetic_opt(GetParam().pre_ln, GetParam().word_embed_proj_dim, 51);
    auto model = c.open(dir.path());
    const auto ids = test::random_tokens(12, 52);
    const auto expected = reference_opt_logits(c, ids);
    const auto actual = test::logits_of(*model, ids);
    EXPECT_LT(test::max_abs_diff(expected, actual), 1e-4)
        << test::describe_max_diff(expected, actual);
}

INSTANTIATE_TEST_SUITE_P(ForwardOpt, ForwardOptReference,
                         ::testing::Values(OptVariant{"pre_ln", true, 32},
                                           OptVariant{"post_ln", false, 32},
                                           OptVariant{"pre_ln_project", true, 16},
                                           OptVariant{"post_ln_project", false, 16}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ForwardOpt, PositionsStartAtRowTwo)
{
    test::TempDir dir;
    const auto c = test::synthetic_opt(true, 32, 53);
    const std::int64_t length = 10;
    const auto ids = test::random_tokens(length, 54);
    const auto logits = test::logits_of(*c.open(dir.file("base")), ids);
    auto with_rows = [&](std::vector<std::int64_t> rows, const std::string& name) {
        auto edited = c;
        auto& positions = edited.at("model.decoder.embed_positions.weight");
        positions = positions.clone();  // copies of a checkpoint share tensor storage
        for (auto row : rows)
            positions[row].fill_(1e4);
        return test::logits_of(*edited.open(dir.file(name)), ids);
    };

    // Rows 0 and 1 are never read (HF's offset), nor is row length + 2 for a sequence of length.
    for (auto rows : {std::vector<std::int64_t>{0, 1}, std::vector<std::int64_t>{length + 2}}) {
        const auto name = "unused" + std::to_string(rows[0]);
        const auto actual = with_rows(rows, name);
        EXPECT_TRUE(torch::equal(logits, actual))
            << "row " << rows[0] << " was read: " << test::describe_max_diff(logits, actual);
    }
    // Row 2 is position 0, row length + 1 the last position.
    EXPECT_GT(test::max_abs_diff(logits[0], with_rows({2}, "first")[0]), 1e-3);
    const auto last = with_rows({length + 1}, "last");
    EXPECT_GT(test::max_abs_diff(logits[length - 1], last[length - 1]), 1e-3);
    EXPECT_TRUE(torch::equal(logits.slice(0, 0, length - 1), last.slice(0, 0, length - 1)))
        << test::describe_max_diff(logits.slice(0, 0, length - 1), last.slice(0, 0, length - 1));
}

TEST(ForwardOpt, PostLnFlagIsHonoured)
{
    // The same tensors under both flags (the post-LN model ignores the decoder's
    // final_layer_norm, as transformers never builds it).
    test::TempDir dir;
    auto pre = test::synthetic_opt(true, 32, 55);
    auto post = pre;
    post.config["do_layer_norm_before"] = false;
    auto pre_model = pre.open(dir.file("pre"));
    auto post_model = post.open(dir.file("post"));
    EXPECT_TRUE(pre_model->load_head().norm_weight.defined());
    EXPECT_FALSE(post_model->load_head().norm_weight.defined());
    const auto ids = test::random_tokens(12, 56);
    EXPECT_GT(
        test::max_abs_diff(test::logits_of(*pre_model, ids), test::logits_of(*post_model, ids)),
        1e-2);
}

struct Moments {
    bool finite = false;
    double mean_error = 0;  // max over tokens of |mean|
    double var_error = 0;   // max over tokens of |variance - 1|
};

// Per-token mean and variance of layer 0's output after undoing final_layer_norm's affine part.
Moments normalised_moments(const CausalLM& model)
{
    torch::manual_seed(57);
    const auto weights = model.load_layer(0);
    const auto hidden = 3.0 * torch::randn({2, 7, 32}) + 1.0;
    const auto y = opt_layer_forward(model.config(), weights, hidden);
    const auto z =
        (y - weights.get("final_layer_norm.bias")) / weights.get("final_layer_norm.weight");
    return {torch::isfinite(z).all().item<bool>(), z.mean(-1).abs().max().item<double>(),
            (z.var(-1, /*unbiased=*/false) - 1).abs().max().item<double>()};
}

TEST(ForwardOpt, PostLnLayerEndsWithItsLayerNorm)
{
    // opt-350m's layer returns final_layer_norm(h + ffn(h)); a pre-LN layer returns the raw
    // residual sum. Undoing the affine part must give zero mean and unit variance per token
    // (up to eps 1e-5) for post-LN only.
    test::TempDir dir;
    auto post = test::synthetic_opt(false, 32, 58);
    auto pre = post;
    pre.config["do_layer_norm_before"] = true;
    pre.tensors["model.decoder.final_layer_norm.weight"] = torch::ones({32});
    pre.tensors["model.decoder.final_layer_norm.bias"] = torch::zeros({32});
    const Moments post_ln = normalised_moments(*post.open(dir.file("post")));
    EXPECT_TRUE(post_ln.finite);
    EXPECT_LT(post_ln.mean_error, 1e-4) << "per-token mean after undoing the affine part";
    EXPECT_LT(post_ln.var_error, 1e-3) << "per-token variance - 1 after undoing the affine part";
    // Negative control: the check must be able to fail.
    const Moments pre_ln = normalised_moments(*pre.open(dir.file("pre")));
    EXPECT_GT(std::max(pre_ln.mean_error, pre_ln.var_error), 1e-2)
        << "pre-LN output looked normalised too";
}

TEST(ForwardOpt, OriginalCheckpointsWithoutModelPrefix)
{
    // facebook/opt-* originals store "decoder.*" instead of "model.decoder.*".
    test::TempDir dir;
    const auto c = test::synthetic_opt(false, 16, 59);
    SyntheticCheckpoint stripped;
    stripped.config = c.config;
    for (const auto& [name, tensor] : c.tensors)
        stripped.tensors[name.substr(6)] = tensor;
    const auto ids = test::random_tokens(9, 60);
    const auto expected = test::logits_of(*c.open(dir.file("hf")), ids);
    const auto actual = test::logits_of(*stripped.open(dir.file("original")), ids);
    EXPECT_TRUE(torch::equal(expected, actual)) << test::describe_max_diff(expected, actual);
}

}  // namespace
}  // namespace qs
