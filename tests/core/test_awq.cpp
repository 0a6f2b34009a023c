// AWQ on synthetic decoder layers built in memory (Llama with and without GQA,
// pre- and post-LN OPT): the folded scales keep the full-precision function,
// AWQ beats plain round-to-nearest on inputs with planted outlier channels (INT
// and MX), the clip never hurts a linear's output on the calibration input and
// matches a direct transcription of auto_clip_layer, and the AWQ
// pseudo-quantizer matches hand-computed values.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/types.h>

#include "core/model/checkpoint_names.h"
#include "core/quant/awq.h"
#include "core/quant/awq_search.h"
#include "core/quant/int_quantizer.h"
#include "core/util/feedback.h"

namespace qs {
namespace {

constexpr std::int64_t kHidden = 64, kHeads = 4, kHeadDim = 16, kFfn = 128;
constexpr std::int64_t kSamples = 8, kLength = 32;
const std::vector<std::int64_t> kOutlierChannels = {5, 21, 42};

ModelConfig llama_config(std::int64_t kv_heads)
{
    ModelConfig c;
    c.model_type = "llama";
    c.arch = Architecture::Llama;
    c.hidden_size = kHidden;
    c.intermediate_size = kFfn;
    c.num_layers = 1;
    c.num_heads = kHeads;
    c.num_kv_heads = kv_heads;
    c.head_dim = kHeadDim;
    c.vocab_size = 97;
    c.max_position_embeddings = 128;
    c.norm_eps = 1e-5;
    c.hidden_act = "silu";
    return c;
}

ModelConfig opt_config(bool pre_ln)
{
    ModelConfig c;
    c.model_type = "opt";
    c.arch = Architecture::Opt;
    c.hidden_size = kHidden;
    c.intermediate_size = kFfn;
    c.num_layers = 1;
    c.num_heads = kHeads;
    c.num_kv_heads = kHeads;
    c.head_dim = kHeadDim;
    c.vocab_size = 97;
    c.max_position_embeddings = 128;
    c.norm_eps = 1e-5;
    c.hidden_act = "relu";
    c.do_layer_norm_before = pre_ln;
    c.word_embed_proj_dim = kHidden;
    return c;
}

torch::Tensor random_linear(std::int64_t out, std::int64_t in)
{
    return torch::randn({out, in}) / std::sqrt(double(in));
}

LayerWeights make_layer(const ModelConfig& c, std::uint64_t seed)
{
    torch::manual_seed(seed);
    LayerWeights w;
    const auto q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
    auto norm = [&](const std::string& name, bool bias) {
        w.set(name + ".weight", 1.0 + 0.1 * torch::randn({kHidden}));
        if (bias) w.set(name + ".bias", 0.1 * torch::randn({kHidden}));
    };
    auto linear = [&](const std::string& name, std::int64_t out, std::int64_t in, bool bias) {
        w.set(name + ".weight", random_linear(out, in));
        if (bias) w.set(name + ".bias", 0.1 * torch::randn({out}));
    };
    if (c.arch == Architecture::Opt) {
        norm("self_attn_layer_norm", true);
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"})
            linear(std::string("self_attn.") + proj, kHidden, kHidden, true);
        norm("final_layer_norm", true);
        linear("fc1", kFfn, kHidden, true);
        linear("fc2", kHidden, kFfn, true);
        return w;
    }
    norm("input_layernorm", false);
    linear("self_attn.q_proj", q_out, kHidden, false);
    linear("self_attn.k_proj", kv_out, kHidden, false);
    linear("self_attn.v_proj", kv_out, kHidden, false);
    linear("self_attn.o_proj", kHidden, q_out, false);
    norm("post_attention_layernorm", false);
    linear("mlp.gate_proj", kFfn, kHidden, false);
    linear("mlp.up_proj", kFfn, kHidden, false);
    linear("mlp.down_proj", kHidden, kFfn, false);
    return w;
}

// Hidden states [kSamples, kLength, hidden]; with outliers, a few channels are
// 50x larger.
torch::Tensor layer_inputs(std::uint64_t seed, bool outliers)
{
    torch::manual_seed(seed);
    auto x = torch::randn({kSamples, kLength, kHidden});
    if (outliers)
        for (auto c : kOutlierChannels)
            x.select(2, c).mul_(50.0);
    return x;
}

LayerWeights copy_of(const LayerWeights& w)
{
    return awq_detail::plain_copy(w);
}

torch::Tensor forward(const ModelConfig& c, const LayerWeights& w, const torch::Tensor& x)
{
    torch::NoGradGuard no_grad;
    return decoder_layer_forward(c, w, x, make_layer_context(c, x.size(1), torch::kCPU));
}

void quantize_all(const ModelConfig& c, LayerWeights& w, const QuantFormat& f)
{
    for (const auto& linear : decoder_linear_names(c))
        w.set(linear + ".weight", awq_fake_quantize(w.get(linear + ".weight"), f));
}

double mse(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a - b).pow(2).mean().item<double>();
}

QuantFormat int_format(int bits, int group_size)
{
    QuantFormat f;
    f.kind = FormatKind::Int;
    f.bits = bits;
    f.symmetric = false;
    f.granularity = group_size > 0 ? Granularity::Group : Granularity::Channel;
    f.group_size = group_size;
    return f;
}

QuantFormat mxint4_32()
{
    QuantFormat f;
    f.kind = FormatKind::Mx;
    f.element = MxElement::Int4;
    f.block_size = 32;
    return f;
}

AwqSettings settings_with(bool clip, bool duo = false)
{
    AwqSettings s;
    s.clip = clip;
    s.duo_scaling = duo;
    return s;
}

std::string ratios_of(const AwqLayerReport& r)
{
    std::ostringstream out;
    for (const auto& [group, ratio] : r.best_ratio)
        out << group << "=" << ratio << " ";
    return out.str();
}

// Layer-output MSE against the full-precision layer on held-out inputs with the
// same outlier channels: (AWQ then AWQ pseudo-quantization, plain
// pseudo-quantization).
std::pair<double, double> awq_vs_rtn(const ModelConfig& c, const QuantFormat& f,
                                     const AwqSettings& settings)
{
    const auto fp = make_layer(c, 11);
    const auto calibration = layer_inputs(1, true), held_out = layer_inputs(2, true);
    const auto reference = forward(c, fp, held_out);

    auto rtn = copy_of(fp);
    quantize_all(c, rtn, f);
    auto awq = copy_of(fp);
    awq_apply(c, awq, calibration, make_layer_context(c, kLength, torch::kCPU), f, settings);
    quantize_all(c, awq, f);
    return {mse(reference, forward(c, awq, held_out)), mse(reference, forward(c, rtn, held_out))};
}

// ---------------------------------------------------------------------------------------------

TEST(AwqFakeQuantize, IntAsymMatchesHandComputedPseudoQuantizeTensor)
{
    // int3, groups of 4: group 1 range [-0.7, 1.4] -> scale 0.3, zero round(0.7 /
    // 0.3) = 2; group 2 range [0.3, 1.1] -> scale 0.8 / 7, zero
    // clamp(-round(2.625), 0, 7) = 0, so the top of the range saturates at code 7
    // (0.8): AWQ's quantizer does not force 0 into range.
    auto w = torch::tensor({-0.7f, 0.0f, 0.3f, 1.4f, 0.3f, 0.5f, 0.7f, 1.1f}).reshape({1, 8});
    const float s2 = 0.8f / 7.0f;
    auto expected =
        torch::tensor({-0.6f, 0.0f, 0.3f, 1.5f, 3 * s2, 4 * s2, 6 * s2, 7 * s2}).reshape({1, 8});
    auto q = awq_fake_quantize(w, int_format(3, 4));
    EXPECT_TRUE(torch::allclose(q, expected, 1e-5, 1e-6)) << q << "\nexpected\n" << expected;

    // Whole row (per channel): range [-0.7, 1.4], scale 0.3, zero 2 for every
    // element.
    auto row = awq_fake_quantize(w, int_format(3, 0));
    auto expected_row =
        torch::tensor({-0.6f, 0.0f, 0.3f, 1.5f, 0.3f, 0.6f, 0.6f, 1.2f}).reshape({1, 8});
    EXPECT_TRUE(torch::allclose(row, expected_row, 1e-5, 1e-6)) << row << "\nexpected\n"
                                                                << expected_row;

    // Symmetric int4: scale absmax / 7 = 0.2, signed codes.
    auto f = int_format(4, 0);
    f.symmetric = true;
    auto sym = awq_fake_quantize(torch::tensor({-1.4f, 0.35f, 0.75f, 0.05f}).reshape({1, 4}), f);
    auto expected_sym = torch::tensor({-1.4f, 0.4f, 0.8f, 0.0f}).reshape({1, 4});
    EXPECT_TRUE(torch::allclose(sym, expected_sym, 1e-5, 1e-6)) << sym;
}

TEST(AwqFakeQuantize, PartialLastGroupIsItsOwnGroup)
{
    torch::manual_seed(3);
    auto w = torch::randn({5, 40});
    auto q = awq_fake_quantize(w, int_format(4, 32));
    auto head = w.narrow(1, 0, 32), tail = w.narrow(1, 32, 8);
    EXPECT_TRUE(torch::equal(q.narrow(1, 0, 32),
                             int_quantize_dequantize(head, awq_find_params(head, 4, false))));
    EXPECT_TRUE(torch::equal(q.narrow(1, 32, 8),
                             int_quantize_dequantize(tail, awq_find_params(tail, 4, false))));
}

TEST(AwqApply, ScalingPreservesTheFullPrecisionFunction)
{
    struct Case {
        std::string name;
        ModelConfig config;
    };
    for (const auto& [name, config] :
         {Case{"llama-mha", llama_config(4)}, Case{"llama-gqa", llama_config(2)},
          Case{"opt-pre-ln", opt_config(true)}, Case{"opt-post-ln", opt_config(false)}}) {
        SCOPED_TRACE(name);
        for (bool duo : {false, true}) {
            auto weights = make_layer(config, 7);
            const auto x = layer_inputs(1, true);
            const auto before = forward(config, weights, x);
            auto report =
                awq_apply(config, weights, x, make_layer_context(config, kLength, torch::kCPU),
                          int_format(4, 0), settings_with(/*clip=*/false, duo));
            const auto after = forward(config, weights, x);
            const double relative =
                (after - before).norm().item<double>() / before.norm().item<double>();
            EXPECT_LT(relative, 1e-4) << "duo " << duo;
            EXPECT_TRUE(report.clip_max.empty());
            bool scaled = false;
            for (const auto& [group, ratio] : report.best_ratio)
                scaled = scaled || ratio > 0;
            EXPECT_TRUE(scaled) << "no group chose r > 0, the test checks nothing: "
                                << ratios_of(report);
        }
    }
}

TEST(AwqApply, ReducesOutputErrorOfInt4AndInt3g32OnOutlierInputs)
{
    for (const auto& config : {llama_config(4), llama_config(2), opt_config(true)}) {
        for (const auto& format : {int_format(4, 0), int_format(3, 32)}) {
            for (bool duo : {false, true}) {
                SCOPED_TRACE(config.model_type + " kv " + std::to_string(config.num_kv_heads) +
                             " " + format.name() + (duo ? " duo" : ""));
                const auto [awq, rtn] =
                    awq_vs_rtn(config, format, settings_with(/*clip=*/true, duo));
                EXPECT_LT(awq, 0.7 * rtn) << "AWQ " << awq << " vs RTN " << rtn;
            }
        }
    }
}

TEST(AwqApply, MxFormatRunsAndBeatsPlainMxRtn)
{
    for (const auto& config : {llama_config(4), opt_config(true)}) {
        SCOPED_TRACE(config.model_type);
        const auto [awq, rtn] = awq_vs_rtn(config, mxint4_32(), settings_with(/*clip=*/true));
        EXPECT_TRUE(std::isfinite(awq));
        EXPECT_LT(awq, 0.7 * rtn) << "AWQ " << awq << " vs MX RTN " << rtn;
    }
}

TEST(AwqApply, GroupedQueryAttentionSkipsTheVToOGroup)
{
    const std::set<std::string> mha_groups = {"self_attn.q_proj", "self_attn.o_proj",
                                              "mlp.gate_proj", "mlp.down_proj"};
    for (std::int64_t kv : {4, 2}) {
        const auto config = llama_config(kv);
        auto weights = make_layer(config, 5);
        auto report = awq_apply(config, weights, layer_inputs(1, true),
                                make_layer_context(config, kLength, torch::kCPU), int_format(4, 0),
                                settings_with(/*clip=*/true));
        std::set<std::string> groups;
        for (const auto& [group, ratio] : report.best_ratio)
            groups.insert(group);
        auto expected = mha_groups;
        if (kv != kHeads) expected.erase("self_attn.o_proj");
        EXPECT_EQ(groups, expected) << "kv heads " << kv;
        EXPECT_EQ(report.scales.size(), expected.size());
        EXPECT_EQ(report.scales.at("self_attn.q_proj").size(0), kHidden);
        // Clipped: everything but q and k, even under GQA.
        EXPECT_EQ(report.clip_max.size(), 5u);
        EXPECT_EQ(
            report.clip_max.count("self_attn.q_proj") + report.clip_max.count("self_attn.k_proj"),
            0u);
    }
}

TEST(AwqApply, PostLnOptScalesOnlyFcToFcGroups)
{
    const auto config = opt_config(false);
    auto weights = make_layer(config, 5);
    const auto norm_before = weights.get("final_layer_norm.weight").clone();
    auto report = awq_apply(config, weights, layer_inputs(1, true),
                            make_layer_context(config, kLength, torch::kCPU), int_format(4, 0),
                            settings_with(/*clip=*/false));
    EXPECT_EQ(report.best_ratio.size(), 2u);
    EXPECT_EQ(report.best_ratio.count("self_attn.out_proj"), 1u);
    EXPECT_EQ(report.best_ratio.count("fc2"), 1u);
    EXPECT_TRUE(torch::equal(weights.get("final_layer_norm.weight"), norm_before));
}

// The clip minimises, per (row, group), the error of the group's partial
// products on the calibration tokens; per channel that is exactly the linear's
// output error, with groups the cross terms between groups are left out, so a
// small tolerance is allowed there.
TEST(AwqApply, ClipNeverIncreasesPerLinearOutputError)
{
    for (const auto& config : {llama_config(4), opt_config(true)}) {
        for (const auto& [format, tolerance] :
             {std::pair{int_format(4, 0), 1e-5}, std::pair{int_format(3, 32), 0.02},
              std::pair{mxint4_32(), 0.02}}) {
            SCOPED_TRACE(config.model_type + " " + format.name());
            const auto fp = make_layer(config, 9);
            const auto x = layer_inputs(1, true);
            const auto context = make_layer_context(config, kLength, torch::kCPU);
            auto unclipped = copy_of(fp), clipped = copy_of(fp);
            awq_apply(config, unclipped, x, context, format, settings_with(false));
            auto report = awq_apply(config, clipped, x, context, format, settings_with(true));

            std::map<std::string, torch::Tensor>
                inputs;  // each linear's input in the scaled FP layer
            unclipped.set_observer([&](const std::string& m, const torch::Tensor& in) {
                inputs[m] = in.reshape({-1, in.size(-1)}).clone();
            });
            forward(config, unclipped, x);
            unclipped.set_observer({});

            for (const auto& [linear, max_val] : report.clip_max) {
                const auto& w = unclipped.get(linear + ".weight");
                const auto& in = inputs.at(linear);
                const auto target = torch::matmul(in, w.t());
                const double plain =
                    mse(torch::matmul(in, awq_fake_quantize(w, format).t()), target);
                const double with_clip =
                    mse(torch::matmul(
                            in, awq_fake_quantize(clipped.get(linear + ".weight"), format).t()),
                        target);
                EXPECT_LE(with_clip, plain * (1 + tolerance))
                    << linear << ": clip " << with_clip << " vs " << plain;
            }
        }
    }
}

// Direct transcription of auto_clip_layer for one row batch: elementwise
// products summed over the group, loops over rows and groups. search_clip must
// pick the same clip values (up to near-ties that the other summation order may
// resolve differently).
TEST(AwqClip, MatchesElementwiseReference)
{
    torch::manual_seed(4);
    const std::int64_t rows = 24, cols = 96, group = 32, tokens = 1100;
    auto w = torch::randn({rows, cols});
    auto x = torch::randn({tokens, cols});
    x.select(1, 7).mul_(20.0);
    const auto format = int_format(4, group);
    const auto best = awq_detail::search_clip(w, x, format, 20);
    ASSERT_EQ(best.sizes(), (std::vector<std::int64_t>{rows, cols / group}));

    const auto step = tokens / 512;  // 2: tokens 0, 2, ..., 1098 (550 tokens)
    const auto xs = x.slice(0, 0, tokens, step);
    std::int64_t mismatches = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t g = 0; g < cols / group; ++g) {
            auto wg = w[r].narrow(0, g * group, group);
            auto xg = xs.narrow(1, g * group, group);
            auto org_out = (xg * wg).sum(-1);
            const double amax = wg.abs().max().item<double>();
            double best_max = amax, min_err = 1e9;
            for (int i = 0; i < 10; ++i) {
                auto max_val = float(amax) * (1 - i / 20.0);
                auto cur = torch::clamp(wg, -max_val, max_val).reshape({1, group});
                auto q =
                    int_quantize_dequantize(cur, awq_find_params(cur, 4, false)).reshape({group});
                const double err = ((xg * q).sum(-1) - org_out).pow(2).mean().item<double>();
                if (err < min_err) {
                    min_err = err;
                    best_max = max_val;
                }
            }
            if (std::abs(best[r][g].item<double>() - best_max) > 1e-5 * amax) ++mismatches;
        }
    }
    EXPECT_LE(mismatches, 1) << "of " << rows * cols / group << " (row, group) clip values";

    // apply_clip clamps each (row, group) to its value.
    auto clipped = awq_detail::apply_clip(w, best, group);
    auto bound = best.repeat_interleave(group, 1);
    EXPECT_TRUE((clipped.abs() <= bound + 1e-7).all().item<bool>());
    EXPECT_TRUE(torch::equal(clipped, torch::max(torch::min(w, bound), -bound)));
}

TEST(AwqApply, ReportsProgressAndHonoursCancel)
{
    const auto config = llama_config(4);
    const auto context = make_layer_context(config, kLength, torch::kCPU);
    {
        auto weights = make_layer(config, 5);
        Feedback feedback;
        std::vector<double> fractions;
        feedback.set_listener([&](double f, const std::string&) { fractions.push_back(f); });
        awq_apply(config, weights, layer_inputs(1, false), context, int_format(4, 0),
                  settings_with(true), &feedback);
        ASSERT_GE(fractions.size(), 9u);  // capture, 4 groups, 5 clips, done
        EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
        EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
    }
    auto weights = make_layer(config, 5);
    const auto q_before = weights.get("self_attn.q_proj.weight").clone();
    Feedback cancelled;
    cancelled.cancel();
    EXPECT_THROW(awq_apply(config, weights, layer_inputs(1, false), context, int_format(4, 0),
                           settings_with(true), &cancelled),
                 CancelledError);
    EXPECT_TRUE(torch::equal(weights.get("self_attn.q_proj.weight"), q_before));
}

}  // namespace
}  // namespace qs
