// GGUF Q8_0 / Q4_0 from QuantScope's own quantized values (issue 6): the on-grid block encoder
// on hand-worked blocks that llama.cpp's own rule would store differently, the recipe refusals,
// and stories260K exported with symmetric INT recipes and read back against the fake checkpoint
// of the same recipe with fp16 scales.
#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include "core/export/checkpoint_export.h"
#include "core/export/export_gguf.h"
#include "core/export/gguf_blocks.h"
#include "core/export/gguf_grid_blocks.h"
#include "core/export/gguf_llama.h"
#include "core/export/gguf_reader.h"
#include "core/io/tensor_torch.h"
#include "core/model/causal_lm.h"
#include "core/quant/recipe.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

using namespace qs::gguf;
using qs::test::TempDir;

namespace {

std::vector<std::uint8_t> encode(TensorType type, const std::vector<float>& x,
                                 const std::vector<float>& d)
{
    std::vector<std::uint8_t> out(*tensor_bytes(type, x.size()));
    encode_blocks_on_grid(type, x.data(), d.data(), x.size(), out.data());
    return out;
}

qs::Recipe recipe(const std::string& yaml)
{
    return qs::Recipe::from_yaml("name: r\n" + yaml);
}

}  // namespace

TEST(GgufGridBlocks, Q4_0KeepsTheGivenScale)
{
    // k = -7..7 then 0: the largest magnitude is +3.5 (k = 7), so llama.cpp's rule would pick
    // d = 3.5 / -8 and store other values; with d = 0.5 every value is exact.
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j)
        x[std::size_t(j)] = 0.5f * float(j < 15 ? j - 7 : (j < 30 ? j - 22 : 0));
    const auto bytes = encode(TensorType::Q4_0, x, {0.5f});
    ASSERT_EQ(bytes.size(), 18u);
    EXPECT_EQ(bytes[0] | (bytes[1] << 8), 0x3800);  // fp16 0.5
    // Element j in the low nibble of byte 2 + j, element j + 16 in the high nibble.
    EXPECT_EQ(bytes[2], std::uint8_t((-7 + 8) | ((16 - 22 + 8) << 4)));
    EXPECT_EQ(bytes[2 + 15], std::uint8_t((15 - 22 + 8) | ((0 + 8) << 4)));  // x[15], x[31]
    EXPECT_EQ(dequantize_blocks(TensorType::Q4_0, bytes, 32), x);
    EXPECT_NE(dequantize_blocks(TensorType::Q4_0, quantize_blocks(TensorType::Q4_0, x), 32), x);
}

TEST(GgufGridBlocks, Q8_0HoldsCodeMinus128)
{
    // k = -128 is a valid int8 code that llama.cpp's rule (d = absmax / 127) never writes.
    std::vector<float> x(64, 0.0f);
    x[0] = -128 * 0.25f;
    x[1] = 127 * 0.25f;
    x[2] = 3 * 0.25f;
    x[33] = -5 * 0.0009765625f;  // 2^-10: an fp16 value
    const auto bytes = encode(TensorType::Q8_0, x, {0.25f, 0.0009765625f});
    ASSERT_EQ(bytes.size(), 68u);
    EXPECT_EQ(bytes[2], 0x80);
    EXPECT_EQ(bytes[3], 127);
    EXPECT_EQ(bytes[34 + 2 + 1], std::uint8_t(std::int8_t(-5)));
    EXPECT_EQ(dequantize_blocks(TensorType::Q8_0, bytes, 64), x);
    EXPECT_NE(dequantize_blocks(TensorType::Q8_0, quantize_blocks(TensorType::Q8_0, x), 64), x);
}

TEST(GgufGridBlocks, RefusesValuesOffTheGrid)
{
    std::vector<float> x(32, 0.0f);
    x[5] = 0.3f;  // not a multiple of 0.25
    EXPECT_THROW(encode(TensorType::Q8_0, x, {0.25f}), qs::QsError);
    x[5] = 8 * 0.25f;  // code 8 is outside Q4_0's [-8, 7]
    EXPECT_THROW(encode(TensorType::Q4_0, x, {0.25f}), qs::QsError);
    EXPECT_NO_THROW(encode(TensorType::Q8_0, x, {0.25f}));
    x[5] = 0.1f;  // 0.1f is no fp16 value
    EXPECT_THROW(encode(TensorType::Q8_0, x, {0.1f}), qs::QsError);
    x[5] = 1.0f;  // a zero scale holds only zeros
    EXPECT_THROW(encode(TensorType::Q8_0, x, {0.0f}), qs::QsError);
    EXPECT_NO_THROW(encode(TensorType::Q8_0, std::vector<float>(32, 0.0f), {0.0f}));
    EXPECT_THROW(encode(TensorType::MXFP4, std::vector<float>(32, 0.0f), {1.0f}), qs::QsError);
}

TEST(GgufRecipeRefusal, NamesWhatFits)
{
    using qs::gguf_recipe_refusal;
    EXPECT_EQ(gguf_recipe_refusal(recipe("weights: int4-g32-sym\n"), TensorType::Q4_0), "");
    EXPECT_EQ(gguf_recipe_refusal(recipe("weights: int3-channel-sym\n"), TensorType::Q4_0), "");
    EXPECT_EQ(gguf_recipe_refusal(recipe("weights: int8-g128-sym\n"), TensorType::Q8_0), "");
    EXPECT_EQ(gguf_recipe_refusal(recipe("weights: int4-g32-sym\n"), TensorType::Q8_0), "");
    EXPECT_EQ(gguf_recipe_refusal(recipe("methods: [gptq]\nweights: int4-g64-sym\n"
                                         "gptq: {act_order: true, static_groups: true}\n"),
                                  TensorType::Q4_0),
              "");
    EXPECT_EQ(gguf_recipe_refusal(recipe("weights: mxfp4-32\n"), TensorType::MXFP4), "");
    const auto refused = [](const std::string& yaml, TensorType type, const std::string& why) {
        const std::string r = gguf_recipe_refusal(recipe(yaml), type);
        EXPECT_NE(r.find(why), std::string::npos) << r;
        EXPECT_NE(r.find("-g32-sym"), std::string::npos) << r;  // names a recipe that fits
    };
    refused("weights: int4-g32-asym\n", TensorType::Q4_0, "asymmetric");
    refused("weights: int8-g32-sym\n", TensorType::Q4_0, "8-bit codes");
    refused("weights: int4-g48-sym\n", TensorType::Q4_0, "groups of 48");
    refused("weights: mxint8-32\n", TensorType::Q8_0, "not INT");
    refused("methods: [gptq]\nweights: int4-g64-sym\ngptq: {act_order: true}\n", TensorType::Q4_0,
            "act_order");
    EXPECT_NE(gguf_recipe_refusal(recipe("weights: int4-g32-sym\nactivations: int8-token\n"),
                                  TensorType::Q4_0)
                  .find("activations"),
              std::string::npos);
    EXPECT_NE(
        gguf_recipe_refusal(recipe("weights: mxint4-32\n"), TensorType::MXFP4).find("mxfp4-32"),
        std::string::npos);
}

TEST(GgufRecipeExport, Stories260KHoldsTheFp16ScaleWeightsExactly)
{
    QS_REQUIRE_SHARED();
    auto model = qs::CausalLM::open(qs::test::stories_dir());
    TempDir dir;
    for (const auto& [type, yaml] : {std::pair{TensorType::Q4_0, "weights: int4-g32-sym\n"},
                                     std::pair{TensorType::Q8_0, "weights: int8-channel-sym\n"}}) {
        const auto r = recipe(yaml);
        const std::string name = tensor_type_name(type);
        qs::ExportOptions fp16;
        fp16.fp16_scales = true;
        qs::export_checkpoint(*model, r, qs::ExportFormat::Fake, dir.file("fake-" + name), fp16);
        const auto result = qs::export_gguf(*model, &r, type, dir.file(name), false);
        EXPECT_EQ(result.exact_linears, 35);
        EXPECT_EQ(result.fallback_type, TensorType::F32);
        EXPECT_EQ(result.fallback_tensors.size(), 5u);  // ffn_down: rows of 172
        auto fake = qs::CausalLM::open(dir.file("fake-" + name));
        const GgufReader reader(result.gguf_path);
        EXPECT_EQ(reader.tensor("blk.0.ffn_down.weight").type, TensorType::F32);
        // Left unquantized by the recipe: F16, not llama.cpp's rule for the type.
        EXPECT_EQ(reader.tensor("token_embd.weight").type, TensorType::F16);
        for (const std::string module : {"self_attn.k_proj", "mlp.up_proj", "mlp.down_proj"}) {
            const std::string hf = "model.layers.3." + module + ".weight";
            auto want = qs::load_tensor(fake->store(), hf);
            if (module == "self_attn.k_proj")
                want = permute_qk_for_gguf(want, model->config().num_kv_heads);
            const auto& info = reader.tensor(llama_gguf_tensor_name(hf));
            if (module != "mlp.down_proj") EXPECT_EQ(info.type, type) << hf;
            const auto got = reader.dequantize(info);
            ASSERT_EQ(got.size(), std::size_t(want.numel()));
            EXPECT_TRUE(torch::equal(want.contiguous().view({-1}), torch::tensor(got).view({-1})))
                << name << " " << hf;
        }
    }
    // A recipe the type cannot hold: refused before anything is written.
    const auto asym = recipe("weights: int4-g32-asym\n");
    EXPECT_THROW(qs::export_gguf(*model, &asym, TensorType::Q4_0, dir.file("asym"), false),
                 qs::QsError);
    EXPECT_FALSE(std::filesystem::exists(dir.file("asym")));
}
