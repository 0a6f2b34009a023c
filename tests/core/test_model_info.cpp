// ModelInfo on the real stories260K checkpoint, and on tiny synthetic Llama/OPT checkpoints
// written here (zeros of the right shapes) for the naming and error cases.
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/io/safetensors_reader.h"
#include "core/io/safetensors_writer.h"
#include "core/io/tensor_store.h"
#include "core/model/checkpoint_names.h"
#include "core/model/model_info.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

using qs::ModelInfo;
using qs::QsError;
using qs::test::TempDir;

namespace {

std::string load_error(const std::string& dir)
{
    try {
        ModelInfo::load(dir);
    } catch (const QsError& e) {
        return e.what();
    }
    return "";
}

void add_zeros(qs::SafetensorsWriter& w, const std::string& name, std::vector<std::int64_t> shape)
{
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d;
    std::vector<float> zeros(static_cast<std::size_t>(n), 0.0f);
    w.add_f32(name, std::move(shape), zeros.data());
}

// OPT with hidden 8, ffn 16, 2 heads, 2 layers, vocab 10, 6 positions; prefix "decoder." as
// in the original facebook/opt-* checkpoints. skip names a tensor to leave out.
void write_tiny_opt(const TempDir& tmp, const std::string& skip = "",
                    std::vector<std::int64_t> fc1_shape = {16, 8})
{
    std::ofstream(tmp.file("config.json")) << R"({"model_type": "opt", "hidden_size": 8,
        "ffn_dim": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "vocab_size": 10,
        "max_position_embeddings": 6, "word_embed_proj_dim": 4, "do_layer_norm_before": true})";
    qs::SafetensorsWriter w;
    auto add = [&](const std::string& name, std::vector<std::int64_t> shape) {
        if (name != skip) add_zeros(w, name, std::move(shape));
    };
    add("decoder.embed_tokens.weight", {10, 4});
    add("decoder.embed_positions.weight", {8, 8});
    add("decoder.project_in.weight", {8, 4});
    add("decoder.project_out.weight", {4, 8});
    add("decoder.final_layer_norm.weight", {8});
    add("decoder.final_layer_norm.bias", {8});
    for (int i = 0; i < 2; ++i) {
        const std::string p = "decoder.layers." + std::to_string(i) + ".";
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            add(p + "self_attn." + proj + ".weight", {8, 8});
            add(p + "self_attn." + proj + ".bias", {8});
        }
        add(p + "fc1.weight", fc1_shape);
        add(p + "fc1.bias", {16});
        add(p + "fc2.weight", {8, 16});
        add(p + "fc2.bias", {8});
        for (const char* norm : {"self_attn_layer_norm", "final_layer_norm"}) {
            add(p + norm + ".weight", {8});
            add(p + norm + ".bias", {8});
        }
    }
    w.write(tmp.file("model.safetensors"));
}

}  // namespace

TEST(ModelInfo, Stories260K)
{
    QS_REQUIRE_SHARED();
    const auto info = ModelInfo::load(qs::test::stories_dir());
    ASSERT_EQ(info.layers.size(), 5u);
    for (const auto& layer : info.layers)
        ASSERT_EQ(layer.linears.size(), 7u);

    const auto& l0 = info.layers[0].linears;
    EXPECT_EQ(l0[0].name, "self_attn.q_proj");
    EXPECT_EQ(l0[0].weight_name, "model.layers.0.self_attn.q_proj.weight");
    EXPECT_EQ(l0[0].out_features, 64);
    EXPECT_EQ(l0[0].in_features, 64);
    EXPECT_EQ(l0[1].name, "self_attn.k_proj");
    EXPECT_EQ(l0[1].out_features, 32);
    EXPECT_EQ(l0[1].in_features, 64);
    EXPECT_EQ(l0[4].name, "mlp.gate_proj");
    EXPECT_EQ(l0[4].out_features, 172);
    EXPECT_EQ(l0[4].in_features, 64);
    EXPECT_EQ(l0[6].name, "mlp.down_proj");
    EXPECT_EQ(l0[6].weight_name, "model.layers.0.mlp.down_proj.weight");
    EXPECT_EQ(l0[6].out_features, 64);
    EXPECT_EQ(l0[6].in_features, 172);
    EXPECT_FALSE(l0[0].has_bias);
    EXPECT_EQ(l0[0].dtype, "F32");
    EXPECT_EQ(info.layers[4].linears[3].weight_name, "model.layers.4.self_attn.o_proj.weight");

    // Independent count: sum of numel over the header's tensors.
    qs::SafetensorsReader reader(qs::test::stories_dir() + "/model.safetensors");
    std::int64_t total = 0;
    for (const auto& [name, t] : reader.tensors())
        total += t.numel();
    EXPECT_EQ(info.stored_parameters, total);
    // lm_head.weight is stored but tied: the distinct count leaves it out.
    EXPECT_EQ(info.total_parameters, total - 512 * 64);
    // Per layer: 7 linears + 2 RMSNorm weights.
    const std::int64_t per_layer = 64 * 64 * 2 + 32 * 64 * 2 + 172 * 64 * 3 + 2 * 64;
    for (const auto& layer : info.layers)
        EXPECT_EQ(layer.parameters, per_layer);
    EXPECT_EQ(info.total_parameters, 5 * per_layer + 64 + 512 * 64);  // 260,032
    EXPECT_EQ(info.embedding_parameters, 512 * 64);
    EXPECT_EQ(info.dtype, "F32");
    EXPECT_EQ(info.file_bytes, static_cast<std::int64_t>(std::filesystem::file_size(
                                   qs::test::stories_dir() + "/model.safetensors")));
    EXPECT_EQ(info.config.vocab_size, 512);
}

TEST(ModelInfo, OptWithoutModelPrefix)
{
    TempDir tmp;
    write_tiny_opt(tmp);
    const auto info = ModelInfo::load(tmp.path());
    ASSERT_EQ(info.layers.size(), 2u);
    ASSERT_EQ(info.layers[1].linears.size(), 6u);
    EXPECT_EQ(info.layers[1].linears[3].name, "self_attn.out_proj");
    EXPECT_EQ(info.layers[1].linears[3].weight_name, "decoder.layers.1.self_attn.out_proj.weight");
    EXPECT_EQ(info.layers[1].linears[4].name, "fc1");
    EXPECT_EQ(info.layers[1].linears[4].out_features, 16);
    EXPECT_TRUE(info.layers[1].linears[4].has_bias);
    EXPECT_EQ(info.layers[1].linears[4].parameters(), 16 * 8 + 16);
    EXPECT_EQ(info.layers[0].parameters, 4 * (64 + 8) + (128 + 16) + (128 + 8) + 4 * 8);
    EXPECT_EQ(info.embedding_parameters, 40 + 64);

    auto store = qs::TensorStore::open_dir(tmp.path());
    const auto names = qs::checkpoint_names(info.config, *store);
    EXPECT_EQ(names.base, "decoder.");
    EXPECT_EQ(names.layer_prefix(1), "decoder.layers.1.");
    EXPECT_EQ(names.embed_tokens, "decoder.embed_tokens.weight");
    EXPECT_EQ(names.embed_positions, "decoder.embed_positions.weight");
    EXPECT_EQ(names.final_norm, "decoder.final_layer_norm");
    EXPECT_EQ(names.project_in, "decoder.project_in.weight");
    EXPECT_EQ(names.project_out, "decoder.project_out.weight");
    EXPECT_EQ(names.lm_head, names.embed_tokens);  // tied, not stored
}

TEST(ModelInfo, StoriesCheckpointNames)
{
    QS_REQUIRE_SHARED();
    const auto config = qs::ModelConfig::load(qs::test::stories_dir() + "/config.json");
    auto store = qs::TensorStore::open_dir(qs::test::stories_dir());
    const auto names = qs::checkpoint_names(config, *store);
    EXPECT_EQ(names.layer_prefix(2), "model.layers.2.");
    EXPECT_EQ(names.embed_tokens, "model.embed_tokens.weight");
    EXPECT_EQ(names.embed_positions, "");
    EXPECT_EQ(names.final_norm, "model.norm");
    EXPECT_EQ(names.lm_head, "lm_head.weight");  // stored copy of the tied embedding
    EXPECT_EQ(names.project_in, "");
    EXPECT_EQ(names.attn_norm, "input_layernorm");
}

TEST(ModelInfo, ErrorMissingTensorNamesDirectoryAndTensor)
{
    TempDir tmp;
    write_tiny_opt(tmp, "decoder.layers.1.fc2.weight");
    EXPECT_EQ(load_error(tmp.path()),
              tmp.path() + ": missing tensor 'decoder.layers.1.fc2.weight'");
}

TEST(ModelInfo, ErrorMissingBiasTheConfigImplies)
{
    TempDir tmp;
    write_tiny_opt(tmp, "decoder.layers.0.self_attn.k_proj.bias");
    EXPECT_EQ(load_error(tmp.path()),
              tmp.path() + ": missing tensor 'decoder.layers.0.self_attn.k_proj.bias'");
}

TEST(ModelInfo, ErrorShapeMismatchNamesTensor)
{
    TempDir tmp;
    write_tiny_opt(tmp, "", {16, 4});
    EXPECT_EQ(load_error(tmp.path()),
              tmp.path() +
                  ": tensor 'decoder.layers.0.fc1.weight' has shape [16, 4] but config.json "
                  "implies [16, 8]");
}

TEST(ModelInfo, ErrorNoEmbedding)
{
    TempDir tmp;
    write_tiny_opt(tmp, "decoder.embed_tokens.weight");
    EXPECT_EQ(load_error(tmp.path()),
              tmp.path() + ": missing tensor 'model.decoder.embed_tokens.weight'");
}
