// Layer-wise quantization of stories260K end to end: output checkpoint layout, numbers that must
// move the right way (GPTQ beats RTN, SmoothQuant alone preserves the function), cancellation
// and refusal to overwrite.
#include <cmath>
#include <filesystem>
#include <set>

#include "core/eval/dataset_text.h"
#include "core/eval/perplexity.h"
#include "core/io/tensor_store.h"
#include "core/io/tensor_torch.h"
#include "core/quant/calibration.h"
#include "core/quant/quantize_observer.h"
#include "core/quant/layer_quantizer.h"
#include "core/quant/quantize_model.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

namespace fs = std::filesystem;

std::vector<std::int64_t> story_ids()
{
    auto t = test::read_raw<std::int32_t>(test::stories_reference("story.tokens.i32"));
    return {t.begin(), t.end()};
}

torch::Tensor story_logits(const CausalLM& model)
{
    return model.forward(torch::tensor(story_ids()).unsqueeze(0)).squeeze(0);
}

double wiki_ppl(const CausalLM& model, std::int64_t windows)
{
    static const std::string text =
        load_eval_text(test::shared_dir() + "/data/wikitext-2-raw/wiki.test.raw");
    PerplexityOptions options;
    options.seqlen = 256;
    options.limit_windows = windows;
    return evaluate_perplexity(model, model.tokenizer().encode(text), options).ppl;
}

Recipe recipe(const std::string& yaml)
{
    return Recipe::from_yaml(yaml + "calibration: {dataset: " + test::shared_dir() +
                             "/data/wikitext-2/valid.txt, samples: 16, seqlen: 128, seed: 0}\n");
}

TEST(QuantizeModel, RtnWritesAnOpenableCheckpointOnTheGrid)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    const auto out = tmp.file("rtn8");
    auto result = quantize_model(*model, recipe("weights: int8-channel-sym\n"), out);
    ASSERT_EQ(result.layers.size(), 5u);
    EXPECT_TRUE(fs::exists(out + "/model.safetensors.index.json"));
    EXPECT_TRUE(fs::exists(out + "/tokenizer.json"));
    auto quantized = CausalLM::open(out);
    auto q = quantized->load_layer(2).get("self_attn.q_proj.weight");
    for (std::int64_t row = 0; row < q.size(0); row += 13) {
        auto values = std::get<0>(torch::_unique(q[row]));
        EXPECT_LE(values.numel(), 256) << "row " << row << " is not on an 8-bit grid";
    }
    const double diff =
        (story_logits(*quantized) - story_logits(*model)).abs().max().item<double>();
    EXPECT_GT(diff, 0.0);
    EXPECT_LT(diff, 0.5) << "int8 per channel should barely move the logits";
}

TEST(QuantizeModel, GptqBeatsRtnAtThreeBits)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    quantize_model(*model, recipe("methods: [rtn]\nweights: int3-g32-asym\n"), tmp.file("rtn"));
    quantize_model(*model, recipe("methods: [gptq]\nweights: int3-g32-asym\n"), tmp.file("gptq"));
    const double fp = wiki_ppl(*model, 20);
    const double rtn = wiki_ppl(*CausalLM::open(tmp.file("rtn")), 20);
    const double gptq = wiki_ppl(*CausalLM::open(tmp.file("gptq")), 20);
    std::cout << "wikitext ppl (20 x 256): fp " << fp << ", rtn w3g32 " << rtn << ", gptq w3g32 "
              << gptq << "\n";
    EXPECT_GT(rtn, fp);
    EXPECT_LT(gptq, rtn);
}

// GPTQ without an observer computes the next layer's inputs over the current ones (one
// activation tensor instead of two); with one it keeps them. Both must write the same weights.
TEST(QuantizeModel, GptqNextInputsInPlaceGiveTheSameCheckpoint)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    const auto r = recipe("methods: [gptq]\nweights: int4-g32-asym\n");
    quantize_model(*model, r, tmp.file("in-place"));
    QuantizeObserver keeps_inputs;  // the base class observes nothing
    QuantizeOptions options;
    options.observer = &keeps_inputs;
    quantize_model(*model, r, tmp.file("copy"), options);
    int compared = 0;
    auto a = TensorStore::open_dir(tmp.file("in-place")),
         b = TensorStore::open_dir(tmp.file("copy"));
    ASSERT_EQ(a->names(), b->names());
    for (const auto& name : a->names()) {
        if (name.find("layers.") == std::string::npos) continue;
        EXPECT_TRUE(torch::equal(load_tensor(*a, name), load_tensor(*b, name))) << name;
        ++compared;
    }
    EXPECT_EQ(compared, model->num_layers() * 9);
}

TEST(QuantizeModel, SmoothQuantAlonePreservesTheFunction)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    quantize_model(*model, recipe("methods: [smoothquant]\nweights: fp32\n"), tmp.file("sq"));
    auto smoothed = CausalLM::open(tmp.file("sq"));
    EXPECT_LT((story_logits(*smoothed) - story_logits(*model)).abs().max().item<double>(), 1e-3);
    // ...while the weights did change.
    EXPECT_FALSE(torch::equal(smoothed->load_layer(0).get("self_attn.q_proj.weight"),
                              model->load_layer(0).get("self_attn.q_proj.weight")));
}

TEST(QuantizeModel, ActivationFormatTravelsWithTheCheckpoint)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    quantize_model(*model, recipe("weights: fp32\nactivations: int4-token\n"), tmp.file("a4"));
    auto a4 = CausalLM::open(tmp.file("a4"));
    EXPECT_EQ(a4->activation_format().kind, FormatKind::Int);
    EXPECT_GT((story_logits(*a4) - story_logits(*model)).abs().max().item<double>(), 1e-3);
}

TEST(QuantizeModel, DataFreeCalibrationUsesTheModelsOwnText)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    CalibrationSettings settings;
    settings.samples = 4;
    settings.seqlen = 24;
    settings.seed = 3;
    auto windows = calibration_windows(*model, settings);
    ASSERT_EQ(windows.sizes(), (std::vector<std::int64_t>{4, 24}));
    EXPECT_TRUE((windows.select(1, 0) == model->tokenizer().bos_id()).all().item<bool>());
    EXPECT_TRUE(torch::equal(windows, calibration_windows(*model, settings)))
        << "same seed, same text";
    // Generated text should read like the model's stories: mostly tokens of real words.
    std::cout << "generated: "
              << model->tokenizer().decode({windows[0].data_ptr<std::int64_t>(),
                                            windows[0].data_ptr<std::int64_t>() + 24})
              << "\n";
    auto r = quantize_model(
        *model,
        Recipe::from_yaml(
            "methods: [gptq]\nweights: int4-g32-asym\ncalibration: {samples: 4, seqlen: 24}\n"),
        tmp.file("df"));
    EXPECT_EQ(r.layers.size(), 5u);
    EXPECT_TRUE(std::isfinite(wiki_ppl(*CausalLM::open(tmp.file("df")), 4)));
}

TEST(QuantizeModel, CalibrationWindowsAreCappedAtTheModelsContext)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    ASSERT_EQ(model->config().max_position_embeddings, 512);
    CalibrationSettings asked;
    asked.seqlen = 2048;
    std::vector<std::string> warnings;
    EXPECT_EQ(fit_calibration_to_context(asked, model->config(), warnings).seqlen, 512);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("512"), std::string::npos) << warnings[0];
    asked.seqlen = 512;
    EXPECT_EQ(fit_calibration_to_context(asked, model->config(), warnings).seqlen, 512);
    EXPECT_EQ(warnings.size(), 1u) << "no warning when it fits";

    // A bundled-style recipe (2048-token windows) on the 512-token model runs on 512.
    auto r = quantize_model(*model,
                            Recipe::from_yaml("methods: [gptq]\nweights: int4-g32-asym\n"
                                              "calibration: {dataset: " +
                                              test::shared_dir() +
                                              "/data/wikitext-2/valid.txt, samples: 2, "
                                              "seqlen: 2048}\n"),
                            tmp.file("capped"));
    bool warned = false;
    for (const auto& w : r.warnings)
        warned = warned || w.find("context") != std::string::npos;
    EXPECT_TRUE(warned);
}

TEST(QuantizeModel, ActivationsOfFullPrecisionLayersStayFloatWhenReopened)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    const std::string acts = "weights: none\nactivations: int3-token-sym\n";
    quantize_model(*model, Recipe::from_yaml(acts + "layers: [0, 0]\n"), tmp.file("one"));
    quantize_model(*model, Recipe::from_yaml(acts), tmp.file("all"));
    quantize_model(*model, Recipe::from_yaml(acts + "full_precision_layers: [1, 2, 3, 4]\n"),
                   tmp.file("fp"));
    const double fp = wiki_ppl(*model, 4);
    const double one = wiki_ppl(*CausalLM::open(tmp.file("one")), 4);
    const double all = wiki_ppl(*CausalLM::open(tmp.file("all")), 4);
    // 3-bit activations in one layer hurt less than in all five; the same layer set written as
    // full_precision_layers gives the same model.
    EXPECT_GT(one, fp);
    EXPECT_GT(all, one * 1.01);
    EXPECT_EQ(wiki_ppl(*CausalLM::open(tmp.file("fp")), 4), one);
}

TEST(QuantizeModel, StaticActivationRangesAreCalibratedAndStored)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    quantize_model(
        *model,
        recipe(
            "methods: [smoothquant, rtn]\nweights: int8-channel-sym\nactivations: int8-tensor-sym\n"
            "activation_ranges: static\n"),
        tmp.file("static"));
    quantize_model(*model,
                   recipe("methods: [smoothquant, rtn]\nweights: int8-channel-sym\nactivations: "
                          "int8-tensor-sym\n"),
                   tmp.file("dynamic"));
    auto stat = CausalLM::open(tmp.file("static"));
    auto layer = stat->load_layer(1);
    ASSERT_TRUE(layer.has("self_attn.q_proj.input_scale"));
    ASSERT_TRUE(layer.has("mlp.down_proj.input_scale"));
    // The stored step is the calibration absmax of the (smoothed) input over 127.
    EXPECT_GT(layer.get("mlp.down_proj.input_scale").item<double>(), 0.0);
    auto dyn = CausalLM::open(tmp.file("dynamic"));
    EXPECT_FALSE(dyn->load_layer(1).has("self_attn.q_proj.input_scale"));
    const auto fp = story_logits(*model), s = story_logits(*stat), d = story_logits(*dyn);
    EXPECT_FALSE(torch::equal(s, d)) << "static and dynamic ranges give identical logits";
    // W8A8 with per-tensor static ranges keeps the model's next-token choices.
    const double agree = (s.argmax(-1) == fp.argmax(-1)).to(torch::kFloat64).mean().item<double>();
    std::cout << "static W8A8: argmax agreement with FP " << agree << ", max |dlogit| "
              << (s - fp).abs().max().item<double>() << "\n";
    EXPECT_GE(agree, 0.9);
}

TEST(QuantizeModel, CalibrationBatchesShrinkForWideLayers)
{
    // Small models: 8192 tokens per batch as before; a Llama-2-7B MLP (11008) at seqlen 2048:
    // one sequence (2048 x 11008 floats = 86 MiB per temporary instead of 4 x that).
    const auto at = [](std::int64_t seqlen) { return torch::empty({1, seqlen, 1}); };
    EXPECT_EQ(layer_batch_size(at(128), 688), 64);
    EXPECT_EQ(layer_batch_size(at(2048)), 4);
    EXPECT_EQ(layer_batch_size(at(2048), 11008), 1);
    EXPECT_EQ(layer_batch_size(at(512), 11008), 5);
    EXPECT_EQ(layer_batch_size(at(4096), 28672), 1);  // never below one sequence
}

TEST(QuantizeModel, CancelLeavesNothingBehind)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    Feedback feedback;
    int calls = 0;
    feedback.set_listener([&](double, const std::string&) {
        if (++calls == 3) feedback.cancel();
    });
    EXPECT_THROW(quantize_model(*model, recipe("methods: [gptq]\nweights: int4-g32-asym\n"),
                                tmp.file("c"), false, &feedback),
                 CancelledError);
    EXPECT_TRUE(fs::is_empty(tmp.path())) << "partial output left in " << tmp.path();
}

TEST(QuantizeModel, RefusesToOverwriteWithoutForce)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    fs::create_directories(tmp.file("exists"));
    EXPECT_THROW(quantize_model(*model, recipe("weights: int8\n"), tmp.file("exists")), QsError);
    EXPECT_NO_THROW(
        quantize_model(*model, recipe("weights: int8\n"), tmp.file("exists"), /*force=*/true));
    EXPECT_TRUE(fs::exists(tmp.file("exists") + "/config.json"));
}

}  // namespace
}  // namespace qs
