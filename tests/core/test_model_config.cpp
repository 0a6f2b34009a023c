// ModelConfig: the real stories260K config, hand-written configs in the shape of published
// Mistral / Qwen2 / Llama 3 / OPT configs, and one test per error class.
#include <string>

#include "core/model/model_config.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

using qs::Architecture;
using qs::ModelConfig;
using qs::QsError;

namespace {

std::string parse_error(const std::string& json)
{
    try {
        ModelConfig::parse(json, "cfg.json");
    } catch (const QsError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(ModelConfig, Stories260K)
{
    QS_REQUIRE_SHARED();
    const auto c = ModelConfig::load(qs::test::stories_dir() + "/config.json");
    EXPECT_EQ(c.model_type, "llama");
    EXPECT_EQ(c.arch, Architecture::Llama);
    EXPECT_EQ(c.hidden_size, 64);
    EXPECT_EQ(c.intermediate_size, 172);
    EXPECT_EQ(c.num_layers, 5);
    EXPECT_EQ(c.num_heads, 8);
    EXPECT_EQ(c.num_kv_heads, 4);
    EXPECT_EQ(c.head_dim, 8);
    EXPECT_EQ(c.vocab_size, 512);
    EXPECT_EQ(c.max_position_embeddings, 512);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
    EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
    EXPECT_EQ(c.rope_scaling.type, "");
    EXPECT_FALSE(c.attention_bias);
    EXPECT_FALSE(c.o_proj_bias);
    EXPECT_FALSE(c.mlp_bias);
    EXPECT_FALSE(c.sliding_window.has_value());
    EXPECT_EQ(c.bos_token_id, 1);
    EXPECT_EQ(c.eos_token_id, 2);
    EXPECT_EQ(c.torch_dtype, "float32");
}

TEST(ModelConfig, MistralSlidingWindowAndDefaults)
{
    const auto c = ModelConfig::parse(R"({
        "model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "vocab_size": 32000, "max_position_embeddings": 32768, "rms_norm_eps": 1e-05,
        "rope_theta": 1000000.0, "sliding_window": 4096, "hidden_act": "silu",
        "tie_word_embeddings": false, "torch_dtype": "bfloat16"})",
                                      "mistral.json");
    EXPECT_EQ(c.arch, Architecture::Llama);
    EXPECT_EQ(c.num_kv_heads, 8);
    EXPECT_EQ(c.head_dim, 128);
    ASSERT_TRUE(c.sliding_window.has_value());
    EXPECT_EQ(*c.sliding_window, 4096);
    EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
    EXPECT_FALSE(c.attention_bias);
    EXPECT_FALSE(c.o_proj_bias);
    EXPECT_EQ(c.torch_dtype, "bfloat16");
    EXPECT_EQ(c.bos_token_id, -1);

    const auto no_window = ModelConfig::parse(R"({
        "model_type": "mistral", "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100,
        "sliding_window": null})",
                                              "mistral.json");
    EXPECT_FALSE(no_window.sliding_window.has_value());
    EXPECT_EQ(no_window.num_kv_heads, 4);  // defaults to num_attention_heads
    EXPECT_DOUBLE_EQ(no_window.norm_eps, 1e-6);
}

TEST(ModelConfig, Qwen2BiasesAndSlidingWindowFlag)
{
    const std::string base = R"("model_type": "qwen2", "hidden_size": 896,
        "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
        "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 32768,
        "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": true,
        "sliding_window": 32768, "bos_token_id": 151643, "eos_token_id": [151645, 151643])";
    const auto c = ModelConfig::parse("{" + base + R"(, "use_sliding_window": false})", "q.json");
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_TRUE(c.attention_bias);
    EXPECT_FALSE(c.o_proj_bias);
    EXPECT_FALSE(c.mlp_bias);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_FALSE(c.sliding_window.has_value());
    EXPECT_EQ(c.eos_token_id, 151645);  // first of the list
    EXPECT_EQ(c.bos_token_id, 151643);

    const auto windowed =
        ModelConfig::parse("{" + base + R"(, "use_sliding_window": true})", "q.json");
    ASSERT_TRUE(windowed.sliding_window.has_value());
    EXPECT_EQ(*windowed.sliding_window, 32768);
}

TEST(ModelConfig, Llama3RopeScalingAndExplicitHeadDim)
{
    const auto c = ModelConfig::parse(R"({
        "model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192,
        "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
        "head_dim": 64, "vocab_size": 128256, "max_position_embeddings": 131072,
        "rope_theta": 500000.0, "attention_bias": true, "mlp_bias": false,
        "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "eos_token_id": [128001, 128008, 128009]})",
                                      "llama3.json");
    EXPECT_EQ(c.rope_scaling.type, "llama3");
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 32.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
    EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_TRUE(c.attention_bias);
    EXPECT_TRUE(c.o_proj_bias);  // llama's attention_bias covers o_proj too
    EXPECT_EQ(c.eos_token_id, 128001);

    const auto linear = ModelConfig::parse(R"({
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10,
        "rope_scaling": {"type": "linear", "factor": 2.0}})",
                                           "linear.json");
    EXPECT_EQ(linear.rope_scaling.type, "linear");
    EXPECT_DOUBLE_EQ(linear.rope_scaling.factor, 2.0);
}

TEST(ModelConfig, Opt350mProjectInAndPostLayerNorm)
{
    // Shape of facebook/opt-350m's config: post-LN and a 512-wide embedding projected to 1024.
    const auto c = ModelConfig::parse(R"({
        "model_type": "opt", "activation_function": "relu", "hidden_size": 1024,
        "ffn_dim": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
        "vocab_size": 50272, "max_position_embeddings": 2048, "word_embed_proj_dim": 512,
        "do_layer_norm_before": false, "enable_bias": true, "bos_token_id": 2,
        "eos_token_id": 2, "torch_dtype": "float16"})",
                                      "opt.json");
    EXPECT_EQ(c.arch, Architecture::Opt);
    EXPECT_EQ(c.intermediate_size, 4096);
    EXPECT_EQ(c.num_kv_heads, 16);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.word_embed_proj_dim, 512);
    EXPECT_FALSE(c.do_layer_norm_before);
    EXPECT_TRUE(c.tie_word_embeddings);  // OPT's default
    EXPECT_TRUE(c.attention_bias);
    EXPECT_TRUE(c.o_proj_bias);
    EXPECT_TRUE(c.mlp_bias);
    EXPECT_FALSE(c.remove_final_layer_norm);
    EXPECT_EQ(c.hidden_act, "relu");
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);

    const auto small = ModelConfig::parse(R"({
        "model_type": "opt", "hidden_size": 768, "ffn_dim": 3072, "num_hidden_layers": 12,
        "num_attention_heads": 12, "vocab_size": 50272, "max_position_embeddings": 2048,
        "_remove_final_layer_norm": false})",
                                          "opt125.json");
    EXPECT_EQ(small.word_embed_proj_dim, 768);  // defaults to hidden_size
    EXPECT_TRUE(small.do_layer_norm_before);
}

TEST(ModelConfig, ErrorMissingKey)
{
    EXPECT_EQ(parse_error(R"({"model_type": "llama", "intermediate_size": 128,
        "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10})"),
              "cfg.json: missing key 'hidden_size'");
    EXPECT_EQ(parse_error(R"({"hidden_size": 64})"), "cfg.json: missing key 'model_type'");
}

TEST(ModelConfig, ErrorUnsupportedModelType)
{
    EXPECT_EQ(parse_error(R"({"model_type": "gpt2", "n_embd": 768})"),
              "cfg.json: unsupported model_type 'gpt2' (supported: llama, mistral, qwen2, opt)");
}

TEST(ModelConfig, ErrorInconsistentHeads)
{
    const std::string base = R"("model_type": "llama", "intermediate_size": 128,
        "num_hidden_layers": 1, "vocab_size": 10, )";
    EXPECT_EQ(parse_error("{" + base + R"("hidden_size": 64, "num_attention_heads": 6})"),
              "cfg.json: hidden_size 64 is not divisible by num_attention_heads 6");
    EXPECT_EQ(parse_error("{" + base +
                          R"("hidden_size": 64, "num_attention_heads": 8,
                              "num_key_value_heads": 3})"),
              "cfg.json: num_attention_heads 8 is not divisible by num_key_value_heads 3");
    EXPECT_EQ(parse_error("{" + base + R"("hidden_size": 0, "num_attention_heads": 8})"),
              "cfg.json: key 'hidden_size' must be positive (got 0)");
}

TEST(ModelConfig, ErrorWrongTypeNamesKey)
{
    EXPECT_EQ(parse_error(R"({"model_type": "llama", "hidden_size": "64"})"),
              "cfg.json: key 'hidden_size' must be an integer (got string)");
    const std::string message = parse_error(R"({"model_type": "llama", "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
        "vocab_size": 10, "rope_scaling": {"rope_type": "llama3", "factor": "x"}})");
    EXPECT_EQ(message, "cfg.json: key 'rope_scaling.factor' must be a number (got string)");
}

TEST(ModelConfig, ErrorUnsupportedActivationAndRope)
{
    const std::string base = R"("model_type": "llama", "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
        "vocab_size": 10, )";
    EXPECT_EQ(parse_error("{" + base + R"("hidden_act": "gelu"})"),
              "cfg.json: hidden_act 'gelu' is not supported for llama (only silu)");
    EXPECT_EQ(parse_error("{" + base + R"("rope_scaling": {"type": "yarn", "factor": 4}})"),
              "cfg.json: unsupported rope_scaling type 'yarn' (supported: linear, llama3)");
    EXPECT_EQ(parse_error(R"({"model_type": "opt", "hidden_size": 64, "ffn_dim": 128,
        "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10,
        "max_position_embeddings": 16, "activation_function": "gelu"})"),
              "cfg.json: activation_function 'gelu' is not supported for opt (only relu)");
}

TEST(ModelConfig, ErrorNotJson)
{
    EXPECT_EQ(parse_error("{\"model_type\": llama"), "cfg.json: not valid JSON");
    EXPECT_EQ(parse_error("[1, 2]"), "cfg.json: top level is not a JSON object");
    qs::test::TempDir tmp;
    const std::string path = tmp.file("config.json");
    try {
        ModelConfig::load(path);
        FAIL() << "no error";
    } catch (const QsError& e) {
        EXPECT_EQ(std::string(e.what()), path + ": cannot read file");
    }
}
