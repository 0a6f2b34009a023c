// The sweep machinery on stories260K: the shared calibration cache serves exactly what each
// experiment would compute itself, the analysis observer records every stage and error, the
// incremental evaluator re-runs only the changed layers and gives the full evaluation's numbers,
// and a grid expands into the documented recipes.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/analysis/experiment_analysis.h"
#include "core/eval/dataset_text.h"
#include "core/eval/incremental_perplexity.h"
#include "core/quant/calibration.h"
#include "core/quant/calibration_cache.h"
#include "core/quant/fake_quantize.h"
#include "core/quant/quantize_model.h"
#include "core/study/experiment_runner.h"
#include "core/study/sweep_grid.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

namespace fs = std::filesystem;

CalibrationSettings small_calibration()
{
    CalibrationSettings s;
    s.dataset = test::shared_dir() + "/data/wikitext-2/valid.txt";
    s.samples = 8;
    s.seqlen = 64;
    s.seed = 3;
    return s;
}

Recipe recipe(const std::string& yaml)
{
    const auto c = small_calibration();
    return Recipe::from_yaml(yaml + "calibration: {dataset: " + c.dataset +
                             ", samples: 8, seqlen: 64, seed: 3}\n");
}

std::vector<std::int32_t> wiki_tokens(const CausalLM& model)
{
    static const std::string text =
        load_eval_text(test::shared_dir() + "/data/wikitext-2-raw/wiki.test.raw");
    return model.tokenizer().encode(text.substr(0, 40000));
}

TEST(CalibrationCache, FullPrecisionInputsMatchALayerByLayerRun)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir());
    CalibrationCache cache(*model, small_calibration());
    auto hidden = model->embed(calibration_windows(*model, small_calibration()));
    auto context = make_layer_context(model->config(), hidden.size(1), torch::kCPU);
    for (int layer = 0; layer <= model->num_layers(); ++layer) {
        EXPECT_TRUE(torch::equal(cache.fp_inputs(layer), hidden)) << "layer " << layer;
        if (layer < model->num_layers()) {
            LayerWeights w = model->load_layer(layer);
            hidden = run_layer(model->config(), w, hidden, context);
        }
    }
    EXPECT_EQ(cache.counters().input_computed, model->num_layers());
    cache.fp_inputs(2);
    EXPECT_EQ(cache.counters().input_computed, model->num_layers()) << "served from memory";
}

TEST(CalibrationCache, TinyBudgetStillServesEveryLayerCorrectly)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir());
    CalibrationCache roomy(*model, small_calibration());
    CalibrationCache tight(*model, small_calibration(), /*memory_budget_mb=*/0);
    for (int layer : {3, 1, 4, 0, 2})
        EXPECT_TRUE(torch::equal(tight.fp_inputs(layer), roomy.fp_inputs(layer))) << layer;
}

TEST(CalibrationCache, GptqWithTheCacheGivesTheSameWeights)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    const Recipe r = recipe("methods: [gptq]\nweights: int4-g32-asym\n");
    quantize_model(*model, r, tmp.file("plain"));
    CalibrationCache cache(*model, r.calibration);
    QuantizeOptions options;
    options.cache = &cache;
    quantize_model(*model, r, tmp.file("cached"), options);
    EXPECT_EQ(cache.counters().hessian_computed, 1) << "first quantized layer only";
    auto a = CausalLM::open(tmp.file("plain"), torch::kCPU, false);
    auto b = CausalLM::open(tmp.file("cached"), torch::kCPU, false);
    for (int layer = 0; layer < model->num_layers(); ++layer) {
        const LayerWeights la = a->load_layer(layer), lb = b->load_layer(layer);
        for (const auto& [name, t] : la.all())
            EXPECT_TRUE(torch::equal(t, lb.get(name))) << "layer " << layer << " " << name;
    }
}

TEST(ExperimentAnalysis, RecordsStagesErrorsAndDepth)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    const Recipe r = recipe(
        "methods: [smoothquant, gptq]\nweights: int4-g32-asym\n"
        "activations: int8-token-sym\n");
    CalibrationCache cache(*model, r.calibration);
    AnalysisOptions options;
    options.depth_samples = 4;
    ExperimentAnalysis analysis(model->config(), r, cache.fp_inputs(0), options);
    QuantizeOptions qo;
    qo.cache = &cache;
    qo.observer = &analysis;
    quantize_model(*model, r, tmp.file("q"), qo);

    const auto linears = analysis.linears();
    ASSERT_EQ(linears.size(), 7u * model->num_layers());
    for (const auto& l : linears) {
        SCOPED_TRACE("layer " + std::to_string(l.layer) + " " + l.module);
        EXPECT_EQ(l.method, "gptq");
        for (const char* stage : {"input", "smoothquant", "quantized"}) {
            EXPECT_TRUE(l.weight_stats.count(stage)) << stage;
            EXPECT_TRUE(l.activation_stats.count(stage)) << stage;
        }
        EXPECT_EQ(l.weight_stats.at("input").rows, l.out_features);
        EXPECT_EQ(l.activation_stats.at("input").cols, l.in_features);
        EXPECT_EQ(l.activation_stats.at("input").rows, 8 * 64);
        EXPECT_GT(l.output_cosine, 0.8);
        EXPECT_LT(l.output_cosine, 1.0);
        EXPECT_GT(l.output_sqnr_db, 5.0);
        EXPECT_GT(l.output_mse, 0.0);
        EXPECT_EQ(l.gptq_column_error.size(), std::size_t(l.in_features));
        EXPECT_EQ(l.hessian_diag.size(), std::size_t(l.in_features));
        EXPECT_EQ(l.group_size, 32);
        EXPECT_EQ(l.storage_bits, r.weights.storage_bits(l.out_features, l.in_features));
    }
    // SmoothQuant moves the activation outliers into the weights: q_proj's input absmax drops.
    const auto& q0 = linears.front();
    EXPECT_LT(q0.activation_stats.at("smoothquant").absmax, q0.activation_stats.at("input").absmax);

    const auto& depth = analysis.depth();
    ASSERT_EQ(depth.cosine.size(), std::size_t(model->num_layers()));
    for (std::size_t i = 0; i < depth.cosine.size(); ++i) {
        EXPECT_GT(depth.cosine[i], 0.5);
        EXPECT_LT(depth.cosine[i], 1.0);
        EXPECT_GT(depth.mse[i], 0.0);
    }
}

TEST(ExperimentAnalysis, CompareHiddenIsExactOnKnownVectors)
{
    auto a = torch::tensor({{1.0f, 0.0f}, {0.0f, 2.0f}});
    auto b = torch::tensor({{1.0f, 1.0f}, {0.0f, 2.0f}});
    const auto c = compare_hidden(a, b);
    EXPECT_NEAR(c.cosine, (1.0 / std::sqrt(2.0) + 1.0) / 2.0, 1e-12);
    EXPECT_NEAR(c.mse, 1.0 / 4.0, 1e-12);
}

TEST(IncrementalPerplexity, MatchesTheFullEvaluationAndRerunsOnlyChangedLayers)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir());
    const auto tokens = wiki_tokens(*model);
    PerplexityOptions options;
    options.seqlen = 128;
    options.limit_windows = 16;
    const double reference = evaluate_perplexity(*model, tokens, options).ppl;

    IncrementalPerplexity incremental(*model, tokens, options);
    auto fp = [&](int layer) { return model->load_layer(layer); };
    auto first = incremental.evaluate(fp, 0);
    EXPECT_NEAR(first.ppl, reference, 1e-9 * reference);
    EXPECT_EQ(incremental.layers_run_last(), model->num_layers());

    // Quantize layer 3 only: layers 3 and 4 re-run, and the result equals a full evaluation of
    // the same model.
    const auto format = QuantFormat::parse("int3-g32-asym");
    auto changed = [&](int layer) {
        LayerWeights w = model->load_layer(layer);
        if (layer == 3)
            for (const auto& name : std::vector<std::string>{"self_attn.q_proj", "mlp.down_proj"})
                w.set(name + ".weight", fake_quantize_weight(w.get(name + ".weight"), format));
        return w;
    };
    auto second = incremental.evaluate(changed, 3);
    EXPECT_EQ(incremental.layers_run_last(), 2);
    IncrementalPerplexity fresh(*model, tokens, options);
    const double full = fresh.evaluate(changed, 0).ppl;
    EXPECT_DOUBLE_EQ(second.ppl, full);
    EXPECT_NE(second.ppl, first.ppl);
    // Back to full precision at layer 3: the first number again.
    EXPECT_DOUBLE_EQ(incremental.evaluate(fp, 3).ppl, first.ppl);
}

TEST(IncrementalPerplexity, SmallBudgetKeepsEveryStrideBoundaryAndStaysExact)
{
    QS_REQUIRE_SHARED();
    auto model = CausalLM::open(test::stories_dir());
    const auto tokens = wiki_tokens(*model);
    PerplexityOptions options;
    options.seqlen = 128;
    options.limit_windows = 64;  // 64 x 128 x 64 floats = 2 MB per boundary
    IncrementalPerplexity tight(*model, tokens, options, /*memory_budget_mb=*/6);
    EXPECT_GT(tight.stride(), 1);
    auto fp = [&](int layer) { return model->load_layer(layer); };
    const double all = tight.evaluate(fp, 0).ppl;
    const double again = tight.evaluate(fp, 4).ppl;
    EXPECT_DOUBLE_EQ(all, again);
    EXPECT_LE(tight.layers_run_last(), tight.stride());
    EXPECT_LE(tight.cached_bytes(), std::int64_t(6) << 20);
}

TEST(SweepGrid, ExpandsMethodsOrdersFormatsAndActivations)
{
    test::TempDir tmp;
    std::ofstream(tmp.file("valid.txt")) << "some text";
    const std::string yaml =
        "name: g\n"
        "calibration: {dataset: valid.txt, samples: 4, seqlen: 32}\n"
        "evaluation: {seqlen: 64, limit: 2, datasets: [wiki=test.raw, other.txt]}\n"
        "methods: [rtn, gptq, [awq, gptq]]\n"
        "orders: [listed, reversed]\n"
        "weights: [int8-channel-sym]\n"
        "int: {bits: [3, 4], groups: [32, 0]}\n"
        "mx: {elements: [mxint4], blocks: [32, 64]}\n"
        "activations: [none, mxint8-32]\n"
        "gptq: {act_order: true}\n";
    const auto grid = SweepGrid::from_yaml(yaml, tmp.file("grid.yaml"), tmp.path());
    // reference + (rtn, gptq, awq+gptq, gptq+awq) x 7 weights x 2 activations, less the GPTQ
    // recipes with MX weights: act_order cannot work on MX blocks, so they are skipped, not run.
    ASSERT_EQ(grid.recipes.size(), 1u + 4u * 7u * 2u - 3u * 2u * 2u);
    ASSERT_EQ(grid.skipped.size(), 3u * 2u * 2u);
    for (const auto& skipped : grid.skipped)
        EXPECT_NE(skipped.find("act_order"), std::string::npos) << skipped;
    EXPECT_EQ(grid.recipes[0].name, "fp16");
    EXPECT_EQ(grid.recipes[1].name, "rtn-int8-channel-sym");
    EXPECT_EQ(grid.recipes[2].name, "rtn-int8-channel-sym-amxint8-32");
    EXPECT_TRUE(grid.recipes.back().gptq.act_order);
    EXPECT_EQ(grid.recipes.back().methods.front(), Method::Gptq) << "reversed order last";
    EXPECT_EQ(grid.calibration.dataset, tmp.file("valid.txt"));
    ASSERT_EQ(grid.datasets.size(), 2u);
    EXPECT_EQ(grid.datasets[0], "wiki=" + tmp.file("test.raw"));
    EXPECT_EQ(grid.eval_limit, 2);
    EXPECT_THROW(SweepGrid::from_yaml("methods: [rtn]\n", "g.yaml", "/"), QsError)
        << "no weight format";
    EXPECT_THROW(SweepGrid::from_yaml("weights: [int4]\nbogus: 1\n", "g.yaml", "/"), QsError);
    EXPECT_THROW(SweepGrid::from_yaml("weights: [int4]\norders: [sideways]\n", "g.yaml", "/"),
                 QsError);
}

}  // namespace
}  // namespace qs
