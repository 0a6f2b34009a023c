// The GUI's engine facade (core/study/workbench.h) on stories260K, and the recipe's
// full-precision layers end to end: quantize_model leaves them bit-identical and feeds the next
// layer from them, model_size counts them at 16 bits, the analysis records none of their
// linears as quantized.
#include <cmath>
#include <filesystem>
#include <set>

#include "core/analysis/model_size.h"
#include "core/quant/quantize_model.h"
#include "core/study/workbench.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

namespace fs = std::filesystem;

WorkbenchSettings small_settings(const std::string& work_dir = {})
{
    auto s = Workbench::default_settings(test::stories_dir(), test::shared_dir());
    s.calibration.samples = 8;
    s.calibration.seqlen = 64;
    s.eval_datasets.resize(1);  // wikitext2 only: enough to see a perplexity
    s.eval_seqlen = 128;
    s.eval_windows = 4;
    s.depth_samples = 4;
    s.work_dir = work_dir;
    return s;
}

Recipe recipe_for(const Workbench& wb, const std::string& yaml)
{
    Recipe r = Recipe::from_yaml(yaml);
    r.calibration = wb.settings().calibration;
    return r;
}

std::set<int> layers_of(const ExperimentRecord& record)
{
    std::set<int> out;
    for (const auto& l : record.linears)
        out.insert(l.layer);
    return out;
}

TEST(Workbench, DefaultSettingsUseTheSharedData)
{
    QS_REQUIRE_SHARED();
    const auto s = Workbench::default_settings(test::stories_dir(), test::shared_dir());
    EXPECT_EQ(s.calibration.samples, 32);
    EXPECT_EQ(s.calibration.seqlen, 256);
    EXPECT_NE(s.calibration.dataset.find("wikitext-2/valid.txt"), std::string::npos);
    ASSERT_EQ(s.eval_datasets.size(), 2u);
    EXPECT_EQ(s.eval_datasets[0].rfind("wikitext2=", 0), 0u);
    EXPECT_EQ(s.eval_datasets[1].rfind("ptb=", 0), 0u);
    EXPECT_EQ(s.eval_windows, 40);
    EXPECT_EQ(s.eval_seqlen, 512);
    const auto none = Workbench::default_settings(test::stories_dir(), "/nonexistent");
    EXPECT_TRUE(none.calibration.dataset.empty()) << "data-free calibration without the files";
    EXPECT_TRUE(none.eval_datasets.empty());
}

TEST(Workbench, BaselineAndExperimentsOnALayerRange)
{
    QS_REQUIRE_SHARED();
    Workbench wb(test::stories_dir(), small_settings());
    EXPECT_EQ(wb.num_layers(), 5);
    const auto header = wb.session_header();
    EXPECT_EQ(header.num_layers, 5);
    EXPECT_EQ(header.calibration.samples, 8);
    EXPECT_EQ(header.model_config_sha256.size(), 64u);
    EXPECT_EQ(header.compute_dtype, "fp32");

    const auto baseline = wb.compute_baseline();
    ASSERT_EQ(baseline.size(), 35u);
    for (const auto& l : baseline) {
        EXPECT_TRUE(l.weight_stats.count("original")) << l.layer << " " << l.module;
        ASSERT_TRUE(l.activation_stats.count("original")) << l.layer << " " << l.module;
        EXPECT_GT(l.activation_stats.at("original").rows, 0);
    }

    const auto rtn =
        wb.run_experiment(recipe_for(wb, "weights: int4-g32-asym\nlayers: [1, 2]\n"), "exp-0001");
    EXPECT_EQ(rtn.id, "exp-0001");
    EXPECT_EQ(layers_of(rtn), (std::set<int>{1, 2}));
    EXPECT_EQ(rtn.linears.size(), 14u);
    for (const auto& l : rtn.linears)
        EXPECT_EQ(l.method, "rtn");
    ASSERT_EQ(rtn.perplexity.size(), 1u);
    EXPECT_EQ(rtn.perplexity[0].dataset, "wikitext2");
    EXPECT_TRUE(std::isfinite(rtn.perplexity[0].ppl));
    EXPECT_GT(rtn.perplexity[0].ppl, 1.0);
    EXPECT_EQ(rtn.depth.cosine.size(), 5u);
    EXPECT_NE(rtn.recipe_yaml.find("layers: [1, 2]"), std::string::npos);

    // "Reset layer 2 to full precision" of a whole-model GPTQ experiment.
    auto gptq = recipe_for(wb, "methods: [gptq]\nweights: int3-g32-asym\n");
    auto reset = gptq;
    reset.full_precision_layers = {2};
    const auto all = wb.run_experiment(gptq, "exp-0002");
    const auto fp2 = wb.run_experiment(reset, "exp-0003");
    EXPECT_EQ(layers_of(all), (std::set<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(layers_of(fp2), (std::set<int>{0, 1, 3, 4}));
    EXPECT_EQ(fp2.linears.size(), 28u);
    EXPECT_GT(fp2.size.linear_bits, all.size.linear_bits);
    EXPECT_NE(fp2.recipe_yaml.find("full_precision_layers: [2]"), std::string::npos);
    ASSERT_EQ(fp2.perplexity.size(), 1u);
    EXPECT_TRUE(std::isfinite(fp2.perplexity[0].ppl));
}

TEST(Workbench, SessionHeaderRecordsTheComputeDtype)
{
    QS_REQUIRE_SHARED();
    auto settings = small_settings();
    settings.compute_dtype = "bf16";
    Workbench wb(test::stories_dir(), settings);
    EXPECT_EQ(wb.session_header().compute_dtype, "bf16");
    settings.compute_dtype = "fp64";
    EXPECT_THROW(Workbench(test::stories_dir(), settings), QsError);
}

TEST(Workbench, CancelledExperimentLeavesNothingAndTheNextOneMatchesAFreshRun)
{
    QS_REQUIRE_SHARED();
    test::TempDir work;
    Workbench wb(test::stories_dir(), small_settings(work.path()));
    const auto recipe = recipe_for(wb, "methods: [gptq]\nweights: int4-g32-asym\n");

    Feedback feedback;
    double seen = 0;
    std::string stage_at_cancel;
    feedback.set_listener([&](double fraction, const std::string& stage) {
        // Progress of a whole experiment moves forward: each step reports inside its share.
        EXPECT_GE(fraction, 0.0);
        EXPECT_LE(fraction, 1.0);
        seen = std::max(seen, fraction);
        if (fraction > 0.3 && !feedback.is_cancelled()) {
            stage_at_cancel = stage;
            feedback.cancel();
        }
    });
    EXPECT_THROW(wb.run_experiment(recipe, "exp-0001", &feedback), CancelledError);
    std::cout << "cancelled at: " << stage_at_cancel << "\n";
    EXPECT_GT(seen, 0.3);
    EXPECT_TRUE(fs::is_empty(work.path())) << "temporary checkpoint left behind";

    const auto after = wb.run_experiment(recipe, "exp-0002");
    Workbench fresh(test::stories_dir(), small_settings());
    const auto reference = fresh.run_experiment(recipe, "exp-0002");
    ASSERT_EQ(after.linears.size(), reference.linears.size());
    for (std::size_t i = 0; i < after.linears.size(); ++i)
        EXPECT_NEAR(after.linears[i].weight_relative_mse, reference.linears[i].weight_relative_mse,
                    1e-9)
            << after.linears[i].layer << " " << after.linears[i].module;
    ASSERT_EQ(after.perplexity.size(), 1u);
    EXPECT_NEAR(after.perplexity[0].ppl, reference.perplexity[0].ppl,
                1e-6 * reference.perplexity[0].ppl);
    EXPECT_EQ(after.depth.cosine, reference.depth.cosine);
}

// --- full-precision layers in quantize_model and model_size ---------------------------------

Recipe stories_recipe(const std::string& yaml)
{
    return Recipe::from_yaml(yaml + "calibration: {dataset: " + test::shared_dir() +
                             "/data/wikitext-2/valid.txt, samples: 8, seqlen: 64, seed: 0}\n");
}

TEST(FullPrecisionLayers, StayBitIdenticalAndFeedTheNextLayer)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    const auto result = quantize_model(
        *model,
        stories_recipe("methods: [gptq]\nweights: int4-g32-asym\nfull_precision_layers: [1]\n"),
        tmp.file("fp1"));
    std::set<int> quantized;
    for (const auto& layer : result.layers)
        quantized.insert(layer.layer);
    EXPECT_EQ(quantized, (std::set<int>{0, 2, 3, 4}));
    auto out = CausalLM::open(tmp.file("fp1"));
    for (int i = 0; i < 5; ++i) {
        auto original = model->load_layer(i);
        auto written = out->load_layer(i);
        for (const auto& [name, tensor] : original.all()) {
            if (name.find("_proj.weight") == std::string::npos) continue;
            const bool same = torch::equal(written.get(name), tensor);
            EXPECT_EQ(same, i == 1) << "layer " << i << " " << name;
        }
    }

    // GPTQ feeds layer 2 from the full-precision layer 1 run on quantized layer 0's outputs:
    // the same as quantizing layer 0 alone, then layers 2-4 of that checkpoint (whose layer 1
    // is the original and whose layer 0 is already quantized).
    quantize_model(*model,
                   stories_recipe("methods: [gptq]\nweights: int4-g32-asym\nlayers: [0, 0]\n"),
                   tmp.file("l0"));
    auto l0 = CausalLM::open(tmp.file("l0"));
    quantize_model(*l0, stories_recipe("methods: [gptq]\nweights: int4-g32-asym\nlayers: [2, 4]\n"),
                   tmp.file("l0-l24"));
    auto staged = CausalLM::open(tmp.file("l0-l24"));
    for (int i : {0, 2, 3, 4}) {
        const auto a = out->load_layer(i).get("mlp.down_proj.weight");
        const auto b = staged->load_layer(i).get("mlp.down_proj.weight");
        EXPECT_LT((a - b).abs().max().item<double>(), 1e-6) << "layer " << i;
    }
}

TEST(FullPrecisionLayers, AreSizedAtSixteenBits)
{
    QS_REQUIRE_SHARED();
    const auto info = ModelInfo::load(test::stories_dir());
    auto recipe = Recipe::from_yaml("weights: int4-g32-asym\n");
    const auto all = model_size(info, recipe);
    recipe.full_precision_layers = {1, 3};
    const auto kept = model_size(info, recipe);
    std::int64_t expected = all.total_bits;
    for (const auto& layer : info.layers) {
        if (layer.index != 1 && layer.index != 3) continue;
        for (const auto& l : layer.linears)
            expected += 16 * l.out_features * l.in_features -
                        recipe.weights.storage_bits(l.out_features, l.in_features);
    }
    EXPECT_EQ(kept.total_bits, expected);
    EXPECT_EQ(kept.parameters, all.parameters);
    EXPECT_TRUE(recipe.quantizes_layer(0, 5));
    EXPECT_FALSE(recipe.quantizes_layer(1, 5));
    EXPECT_FALSE(recipe.quantizes_layer(5, 5));
}

TEST(FullPrecisionLayers, EveryLayerFullPrecisionIsRefused)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    auto recipe =
        Recipe::from_yaml("weights: int4\nlayers: [2, 3]\nfull_precision_layers: [2, 3]\n");
    EXPECT_THROW(quantize_model(*model, recipe, tmp.file("none")), QsError);
    EXPECT_FALSE(fs::exists(tmp.file("none")));
}

}  // namespace
}  // namespace qs
