// Recipes: YAML parsing, defaults, round trip, order warnings and errors naming the source.
#include "core/quant/recipe.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

TEST(Recipe, ParsesEverySection)
{
    const auto r = Recipe::from_yaml(R"(
name: awq+gptq-w4
methods: [awq, gptq]
weights: int4-g32-asym
activations: mxint8-128
calibration: {dataset: valid.txt, samples: 16, seqlen: 256, seed: 7}
gptq: {blocksize: 64, percdamp: 0.1, act_order: true, static_groups: true, true_sequential: false}
awq: {grid: 10, duo_scaling: true, clip: false}
smoothquant: {alpha: 0.8}
layers: [1, 3]
)");
    EXPECT_EQ(r.name, "awq+gptq-w4");
    ASSERT_EQ(r.methods.size(), 2u);
    EXPECT_EQ(r.methods[0], Method::Awq);
    EXPECT_EQ(r.methods[1], Method::Gptq);
    EXPECT_EQ(r.weights.kind, FormatKind::Int);
    EXPECT_EQ(r.weights.group_size, 32);
    EXPECT_EQ(r.activations.kind, FormatKind::Mx);
    EXPECT_EQ(r.calibration.dataset, "valid.txt");
    EXPECT_EQ(r.calibration.samples, 16);
    EXPECT_EQ(r.calibration.seqlen, 256);
    EXPECT_EQ(r.calibration.seed, 7u);
    EXPECT_EQ(r.gptq.blocksize, 64);
    EXPECT_DOUBLE_EQ(r.gptq.percdamp, 0.1);
    EXPECT_TRUE(r.gptq.act_order);
    EXPECT_TRUE(r.gptq.static_groups);
    EXPECT_FALSE(r.gptq.true_sequential);
    EXPECT_EQ(r.awq.grid, 10);
    EXPECT_TRUE(r.awq.duo_scaling);
    EXPECT_FALSE(r.awq.clip);
    EXPECT_DOUBLE_EQ(r.smoothquant.alpha, 0.8);
    EXPECT_EQ(r.first_layer, 1);
    EXPECT_EQ(r.last_layer, 3);
    EXPECT_TRUE(r.warnings().empty());
    EXPECT_TRUE(r.needs_calibration());
}

TEST(Recipe, RoundTripsThroughYaml)
{
    const auto r = Recipe::from_yaml(
        "methods: [smoothquant, gptq]\nweights: mxint4-32\nactivations: mxint8-128\n");
    const auto again = Recipe::from_yaml(r.to_yaml());
    EXPECT_EQ(again.to_yaml(), r.to_yaml());
    EXPECT_EQ(again.name, r.name);
    EXPECT_EQ(again.methods, r.methods);
    EXPECT_TRUE(again.weights == r.weights);
    EXPECT_TRUE(again.activations == r.activations);

    const auto st = Recipe::from_yaml(
        "weights: int8-channel-sym\nactivations: int8-tensor-sym\nactivation_ranges: static\n");
    EXPECT_TRUE(Recipe::from_yaml(st.to_yaml()).static_activations) << st.to_yaml();
}

TEST(Recipe, FullPrecisionLayersRoundTrip)
{
    const auto r = Recipe::from_yaml(
        "methods: [gptq]\nweights: int4-g128-asym\nlayers: [1, 4]\nfull_precision_layers: [3, "
        "2]\n");
    EXPECT_EQ(r.full_precision_layers, (std::vector<int>{2, 3}));
    const auto yaml = r.to_yaml();
    EXPECT_NE(yaml.find("full_precision_layers: [2, 3]"), std::string::npos) << yaml;
    const auto again = Recipe::from_yaml(yaml);
    EXPECT_EQ(again.full_precision_layers, r.full_precision_layers);
    EXPECT_EQ(again.to_yaml(), yaml);
    EXPECT_FALSE(r.quantizes_layer(0, 6));
    EXPECT_TRUE(r.quantizes_layer(1, 6));
    EXPECT_FALSE(r.quantizes_layer(2, 6));
    EXPECT_FALSE(r.quantizes_layer(3, 6));
    EXPECT_TRUE(r.quantizes_layer(4, 6));
    EXPECT_FALSE(r.quantizes_layer(5, 6));
    EXPECT_EQ(r.name, "gptq-int4-g128-asym-L1-4-fp2,3");
    // Written only when there are some.
    EXPECT_EQ(Recipe::from_yaml("weights: int4\n").to_yaml().find("full_precision_layers"),
              std::string::npos);
}

TEST(Recipe, DefaultsToRtnAndNamesItself)
{
    const auto r = Recipe::from_yaml("weights: int3-g32-asym\n");
    ASSERT_EQ(r.methods.size(), 1u);
    EXPECT_EQ(r.methods[0], Method::Rtn);
    EXPECT_FALSE(r.needs_calibration());
    EXPECT_NE(r.name.find("rtn"), std::string::npos);
    EXPECT_EQ(r.calibration.samples, 128);
}

TEST(Recipe, ReversedOrderWarns)
{
    const auto r = Recipe::from_yaml("methods: [gptq, awq]\nweights: int4-g32-asym\n");
    ASSERT_FALSE(r.warnings().empty());
    EXPECT_NE(r.warnings()[0].find("degrade"), std::string::npos);
}

TEST(Recipe, ErrorsNameTheSource)
{
    auto expect_error = [](const std::string& yaml, const std::string& phrase) {
        try {
            Recipe::from_yaml(yaml, "my.yaml");
            ADD_FAILURE() << "no error for: " << yaml;
        } catch (const QsError& e) {
            const std::string m = e.what();
            EXPECT_EQ(m.rfind("my.yaml: ", 0), 0u) << m;
            EXPECT_NE(m.find(phrase), std::string::npos) << m;
        }
    };
    expect_error("methods: [gptq]\n", "missing key 'weights'");
    expect_error("weights: int4\nmethods: [magic]\n", "unknown method 'magic'");
    expect_error("weights: int4\nfoo: 1\n", "unknown key 'foo'");
    expect_error("weights: int4\ngptq: {blocksz: 3}\n", "unknown key 'blocksz'");
    expect_error("weights: int99\n", "int99");
    expect_error("weights: [int4\n", "YAML");
    expect_error("weights: int4\nsmoothquant: {alpha: 1.5}\n", "alpha");
    expect_error("weights: int4\nlayers: [1]\n", "layers");
    expect_error("weights: int4\nlayers: [3, 1]\n", "not a range");
    expect_error("weights: int4-token\n", "per-token");
    expect_error("methods: [gptq]\nweights: int4-tensor\n", "per-tensor");
    expect_error("methods: [gptq]\nweights: int4-g32\ngptq: {mx_micro_block: 32}\n",
                 "micro-blocks");
    expect_error("methods: [gptq]\nweights: mxint4-32\ngptq: {act_order: true}\n", "act_order");
    expect_error("weights: int4\nfull_precision_layers: [-1]\n", "non-negative");
    expect_error("weights: int4\nfull_precision_layers: [2, 1, 2]\n", "layer 2 twice");
    expect_error("weights: int4\nfull_precision_layers: 2\n", "list of layer indices");
    expect_error("weights: int4\nlayers: [1, 2]\nfull_precision_layers: [3]\n", "outside");
}

TEST(Recipe, BundledRecipesParse)
{
    int count = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(QS_SOURCE_DIR) + "/resources/recipes")) {
        SCOPED_TRACE(entry.path().string());
        const auto r = Recipe::load(entry.path().string());
        EXPECT_FALSE(r.name.empty());
        EXPECT_TRUE(r.warnings().empty());
        ++count;
    }
    EXPECT_GE(count, 4);
}

}  // namespace
}  // namespace qs
