// model_size / model_size_fp16 on tiny synthetic checkpoints, every format kind against storage
// written out by hand: codes + metadata per (row, group | block | tensor) as quant_format.h
// specifies, layer ranges (clamped like quantize_model), biases and tied embeddings at 16 bits.
//
// Llama layer (hidden 32, 4 heads of 8, 2 KV heads, ffn 48), weights [out, in]:
//   q [32, 32], k [16, 32], v [16, 32], o [32, 32], gate [48, 32], up [48, 32], down [32, 48]
//   = 7680 weights; two layers 15360. Other: embed 97 x 32 = 3104, lm_head 3104 (untied),
//   norms 2 x 32 per layer + 32 final = 160. Total 21728.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/model_size.h"
#include "core/model/model_info.h"
#include "core/quant/quant_format.h"
#include "core/quant/recipe.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

using qs::ModelInfo;
using qs::ModelSize;
using qs::QuantFormat;
using qs::Recipe;

namespace {

struct Shape {
    std::int64_t out, in;
};
const std::vector<Shape> kLlamaLayer = {{32, 32}, {16, 32}, {16, 32}, {32, 32},
                                        {48, 32}, {48, 32}, {32, 48}};
constexpr std::int64_t kLlamaLinearWeights = 15360;
constexpr std::int64_t kLlamaParameters = 21728;
constexpr std::int64_t kEmbedding = 97 * 32;

// Storage of one weight [out, in]: element bits per code plus metadata bits.
using Metadata = std::function<std::int64_t(std::int64_t out, std::int64_t in)>;
struct Expected {
    std::string format;
    int element_bits;
    Metadata metadata;
};

std::int64_t layer_bits(const Expected& e)
{
    std::int64_t bits = 0;
    for (const Shape& s : kLlamaLayer)
        bits += s.out * s.in * e.element_bits + e.metadata(s.out, s.in);
    return bits;
}

std::int64_t groups(std::int64_t in, std::int64_t size)
{
    return (in + size - 1) / size;  // a partial last group still stores its metadata
}

ModelInfo write_and_load(const qs::test::SyntheticCheckpoint& c, const qs::test::TempDir& dir)
{
    c.write(dir.path());
    return ModelInfo::load(dir.path());
}

Recipe recipe(const std::string& format, int first = 0, int last = -1)
{
    Recipe r;
    r.weights = QuantFormat::parse(format);
    r.first_layer = first;
    r.last_layer = last;
    return r;
}

class ModelSizeTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_info = write_and_load(qs::test::synthetic_llama_family("llama", 2, 1), m_dir);
        ASSERT_EQ(m_info.total_parameters, kLlamaParameters);
    }
    qs::test::TempDir m_dir;
    ModelInfo m_info;
};

std::vector<Expected> every_format()
{
    std::vector<Expected> cases = {
        {"none", 16, [](auto, auto) { return 0; }},
        {"int4-channel-sym", 4, [](auto out, auto) { return out * 16; }},
        {"int4-channel-asym", 4, [](auto out, auto) { return out * (16 + 4); }},
        {"int8-channel-asym-mse", 8, [](auto out, auto) { return out * (16 + 8); }},
        {"int3-g16-asym", 3, [](auto out, auto in) { return out * groups(in, 16) * (16 + 3); }},
        {"int4-g32-sym", 4, [](auto out, auto in) { return out * groups(in, 32) * 16; }},
        {"int2-g128-asym", 2, [](auto out, auto) { return out * 1 * (16 + 2); }},
        {"int6-g20-asym", 6, [](auto out, auto in) { return out * groups(in, 20) * (16 + 6); }},
        {"int2-tensor-asym", 2, [](auto, auto) { return 16 + 2; }},
        {"int8-tensor-sym", 8, [](auto, auto) { return 16; }},
        {"int4-token-sym", 4, [](auto out, auto) { return out * 16; }},
        {"fp8-e4m3-tensor", 8, [](auto, auto) { return 32; }},
        {"fp8-e5m2-tensor", 8, [](auto, auto) { return 32; }},
        {"fp8-e4m3-channel", 8, [](auto out, auto) { return out * 32; }},
        {"fp8-e5m2", 8, [](auto out, auto) { return out * 32; }},
    };
    const std::vector<std::pair<std::string, int>> mx_elements = {
        {"mxint8", 8},     {"mxint6", 6},     {"mxint4", 4},     {"mxint3", 3},     {"mxint2", 2},
        {"mxfp8-e4m3", 8}, {"mxfp8-e5m2", 8}, {"mxfp6-e3m2", 6}, {"mxfp6-e2m3", 6}, {"mxfp4", 4}};
    for (const auto& [element, bits] : mx_elements) {
        for (int block : {16, 32, 64, 128}) {
            // One 8-bit E8M0 exponent per block along `in`; in = 48 with block 32 has a partial
            // second block, in = 32 with block 64 a single partial one.
            cases.push_back({element + "-" + std::to_string(block), bits,
                             [block](auto out, auto in) { return out * groups(in, block) * 8; }});
        }
    }
    return cases;
}

}  // namespace

TEST_F(ModelSizeTest, EveryFormatMatchesHandComputation)
{
    const std::int64_t unquantized = kLlamaParameters - kLlamaLinearWeights;
    for (const Expected& e : every_format()) {
        SCOPED_TRACE(e.format);
        const ModelSize size = qs::model_size(m_info, recipe(e.format));
        const std::int64_t linear = 2 * layer_bits(e);
        EXPECT_EQ(size.linear_bits, linear);
        EXPECT_EQ(size.linear_parameters, kLlamaLinearWeights);
        EXPECT_EQ(size.parameters, kLlamaParameters);
        EXPECT_EQ(size.total_bits, unquantized * 16 + linear);
    }
}

TEST_F(ModelSizeTest, SpotValuesWrittenOut)
{
    // int4-g32-asym, down_proj [32, 48]: 32 * 48 * 4 codes + 32 rows * 2 groups * 20 = 7424.
    // Layer: q,o 2 * (4096 + 32 * 20) = 9472; k,v 2 * (2048 + 320) = 4736;
    // gate,up 2 * (6144 + 960) = 14208; down 7424. Sum 35840 per layer.
    auto size = qs::model_size(m_info, recipe("int4-g32-asym"));
    EXPECT_EQ(size.linear_bits, 2 * 35840);
    EXPECT_EQ(size.total_bits, (kLlamaParameters - kLlamaLinearWeights) * 16 + 2 * 35840);
    EXPECT_EQ(size.bytes(), (size.total_bits + 7) / 8);
    // mxfp4-32: 4 bits + 8 / 32 = 4.25 bits per weight for the 6144 weights with in = 32;
    // down [32, 48] stores 2 exponents per row (the second block is partial).
    auto mx = qs::model_size(m_info, recipe("mxfp4-32"));
    EXPECT_EQ(mx.linear_bits, 2 * (6144 * 4 + 6144 / 32 * 8 + 1536 * 4 + 32 * 2 * 8));
}

TEST_F(ModelSizeTest, Fp16ReferenceIsSixteenBitsEverywhere)
{
    const ModelSize fp16 = qs::model_size_fp16(m_info);
    EXPECT_EQ(fp16.parameters, kLlamaParameters);
    EXPECT_EQ(fp16.total_bits, kLlamaParameters * 16);
    EXPECT_EQ(fp16.linear_parameters, kLlamaLinearWeights);
    EXPECT_EQ(fp16.linear_bits, kLlamaLinearWeights * 16);
    EXPECT_DOUBLE_EQ(fp16.bits_per_weight(), 16.0);
    EXPECT_DOUBLE_EQ(fp16.linear_bits_per_weight(), 16.0);
    const ModelSize none = qs::model_size(m_info, recipe("none"));
    EXPECT_EQ(none.total_bits, fp16.total_bits);
    EXPECT_EQ(none.linear_bits, fp16.linear_bits);
}

TEST_F(ModelSizeTest, LayerRangeQuantizesOnlyItsLayers)
{
    const Expected int4{"int4-channel-sym", 4, [](auto out, auto) { return out * 16; }};
    const std::int64_t q_layer = layer_bits(int4), fp_layer = 7680 * 16;
    const std::int64_t other = (kLlamaParameters - kLlamaLinearWeights) * 16;
    struct Range {
        int first, last;
        int quantized_layers;
    };
    for (const Range& r : {Range{0, -1, 2}, Range{1, -1, 1}, Range{0, 0, 1}, Range{1, 1, 1},
                           Range{1, 7, 1}, Range{-3, 0, 1}, Range{2, -1, 0}, Range{1, 0, 0}}) {
        SCOPED_TRACE("layers [" + std::to_string(r.first) + ", " + std::to_string(r.last) + "]");
        auto size = qs::model_size(m_info, recipe("int4-channel-sym", r.first, r.last));
        const std::int64_t linear =
            r.quantized_layers * q_layer + (2 - r.quantized_layers) * fp_layer;
        EXPECT_EQ(size.linear_bits, linear);
        EXPECT_EQ(size.linear_parameters, kLlamaLinearWeights);
        EXPECT_EQ(size.total_bits, other + linear);
    }
}

TEST(ModelSizeTied, LlamaTiedLmHeadCountedOnce)
{
    // A stored lm_head that copies the tied embedding: ModelInfo counts it once, so does size.
    auto c = qs::test::synthetic_llama_family("llama", 2, 4);
    c.config["tie_word_embeddings"] = true;
    c.tensors["lm_head.weight"] = c.tensors["model.embed_tokens.weight"].clone();
    qs::test::TempDir dir;
    const ModelInfo info = write_and_load(c, dir);
    const std::int64_t parameters = kLlamaParameters - kEmbedding;
    ASSERT_EQ(info.total_parameters, parameters);
    const auto fp16 = qs::model_size_fp16(info);
    EXPECT_EQ(fp16.parameters, parameters);
    EXPECT_EQ(fp16.total_bits, parameters * 16);
    const Expected fp8{"fp8-e4m3-tensor", 8, [](auto, auto) { return 32; }};
    auto size = qs::model_size(info, recipe(fp8.format));
    EXPECT_EQ(size.total_bits, (parameters - kLlamaLinearWeights) * 16 + 2 * layer_bits(fp8));
}

TEST(ModelSizeTied, OptBiasesPositionsAndProjectionsStayFp16)
{
    // OPT, hidden 32, ffn 48, word_embed_proj_dim 16, tied lm_head (not stored). Per layer:
    // q,k,v,out [32, 32] + bias 32; fc1 [48, 32] + 48; fc2 [32, 48] + 32; two LayerNorms of
    // 2 x 32. Linear weights 4 * 1024 + 2 * 1536 = 7168 per layer; everything else per layer:
    // biases 4 * 32 + 48 + 32 = 208, norms 128. Model: embed 97 x 16 = 1552, positions
    // 66 x 32 = 2112, project_in/out 2 x 512, final LayerNorm 64.
    qs::test::TempDir dir;
    const ModelInfo info = write_and_load(qs::test::synthetic_opt(true, 16, 5), dir);
    const std::int64_t linear_weights = 2 * 7168;
    const std::int64_t other = 2 * (208 + 128) + 1552 + 2112 + 1024 + 64;
    ASSERT_EQ(info.total_parameters, linear_weights + other);
    // mxint4-16: 4 bits + one exponent per 16 weights (32 / 16 and 48 / 16 exactly).
    auto size = qs::model_size(info, recipe("mxint4-16"));
    const std::int64_t linear = linear_weights * 4 + linear_weights / 16 * 8;
    EXPECT_EQ(size.linear_bits, linear);
    EXPECT_EQ(size.linear_parameters, linear_weights);
    EXPECT_EQ(size.total_bits, other * 16 + linear);
    EXPECT_EQ(size.parameters, linear_weights + other);
    EXPECT_NEAR(size.linear_bits_per_weight(), 4.5, 1e-12);
}
