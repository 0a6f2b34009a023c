// Llama -> GGUF export: the q/k row permutation on a hand-worked example, llama.cpp's tensor
// names, and stories260K written as F32 and Q8_0 then read back: every hyper-parameter key,
// the vocabulary, every tensor's shape (ggml order) and bytes against the checkpoint.
#include <filesystem>

#include <torch/torch.h>

#include "core/export/gguf_blocks.h"
#include "core/export/gguf_llama.h"
#include "core/export/gguf_reader.h"
#include "core/export/gguf_vocab.h"
#include "core/io/tensor_torch.h"
#include "core/model/causal_lm.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "tests/core/gguf_test_support.h"
#include "tests/core/test_support.h"

using namespace qs::gguf;
using qs::test::TempDir;

TEST(GgufLlama, PermutesRotaryPairsLikeConvertHfToGguf)
{
    // Two heads of head_dim 4, one column: HF rows (h, j*2 + i) hold pair i's half j; GGUF
    // wants pairs adjacent, so each head's rows [a b c d] become [a c b d].
    const auto w = torch::arange(8, torch::kFloat32).reshape({8, 1});
    const auto p = permute_qk_for_gguf(w, 2);
    const std::vector<float> expected = {0, 2, 1, 3, 4, 6, 5, 7};
    EXPECT_EQ(std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + 8), expected);
    // Columns travel with their rows.
    const auto w2 = torch::arange(16, torch::kFloat32).reshape({4, 4});
    const auto p2 = permute_qk_for_gguf(w2, 1);  // rows 0 1 2 3 -> 0 2 1 3
    EXPECT_TRUE(torch::equal(p2[1], w2[2]));
    EXPECT_TRUE(torch::equal(p2[2], w2[1]));
    EXPECT_THROW(permute_qk_for_gguf(torch::zeros({6, 2}), 2), qs::QsError);
}

TEST(GgufLlama, TensorNames)
{
    EXPECT_EQ(llama_gguf_tensor_name("model.embed_tokens.weight"), "token_embd.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.norm.weight"), "output_norm.weight");
    EXPECT_EQ(llama_gguf_tensor_name("lm_head.weight"), "output.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.12.self_attn.q_proj.weight"),
              "blk.12.attn_q.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.0.self_attn.o_proj.weight"),
              "blk.0.attn_output.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.3.input_layernorm.weight"),
              "blk.3.attn_norm.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.3.post_attention_layernorm.weight"),
              "blk.3.ffn_norm.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.1.mlp.gate_proj.weight"),
              "blk.1.ffn_gate.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.1.mlp.up_proj.weight"), "blk.1.ffn_up.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.1.mlp.down_proj.weight"),
              "blk.1.ffn_down.weight");
    EXPECT_EQ(llama_gguf_tensor_name("model.layers.1.mlp.other.weight"), "");
}

namespace {

std::vector<float> floats_of(const torch::Tensor& t)
{
    const auto c = t.contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

}  // namespace

TEST(GgufLlama, Stories260KAsF32)
{
    QS_REQUIRE_SHARED();
    auto model = qs::CausalLM::open(qs::test::stories_dir());
    TempDir dir;
    const std::string path = dir.file("stories.f32.gguf");
    qs::Feedback feedback;
    GgufLlamaReport report;
    write_llama_gguf(*model, path, {}, &feedback, &report);
    EXPECT_TRUE(report.fallback_tensors.empty());
    EXPECT_EQ(feedback.progress(), 1.0);

    const GgufReader r(path);
    EXPECT_EQ(r.get("general.architecture").as_string(), "llama");
    EXPECT_EQ(r.get("general.file_type").as_int(), 0);
    EXPECT_EQ(r.get("llama.context_length").as_int(), 512);
    EXPECT_EQ(r.get("llama.embedding_length").as_int(), 64);
    EXPECT_EQ(r.get("llama.block_count").as_int(), 5);
    EXPECT_EQ(r.get("llama.feed_forward_length").as_int(), 172);
    EXPECT_EQ(r.get("llama.attention.head_count").as_int(), 8);
    EXPECT_EQ(r.get("llama.attention.head_count_kv").as_int(), 4);
    EXPECT_EQ(r.get("llama.rope.dimension_count").as_int(), 8);
    EXPECT_EQ(r.get("llama.rope.freq_base").as_double(), 10000.0);
    EXPECT_FLOAT_EQ(static_cast<float>(r.get("llama.attention.layer_norm_rms_epsilon").as_double()),
                    1e-5f);
    EXPECT_EQ(r.get("tokenizer.ggml.model").as_string(), "llama");
    EXPECT_EQ(r.get("tokenizer.ggml.bos_token_id").as_int(), 1);
    EXPECT_EQ(r.get("tokenizer.ggml.eos_token_id").as_int(), 2);
    EXPECT_EQ(r.get("tokenizer.ggml.unknown_token_id").as_int(), 0);
    EXPECT_TRUE(r.get("tokenizer.ggml.add_bos_token").as_bool());
    const Value& tokens = r.get("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.array.size(), 512u);
    EXPECT_EQ(std::get<std::string>(tokens.array[1]), "<s>");
    EXPECT_EQ(std::get<std::string>(tokens.array[3]), "<0x00>");
    const Value& types = r.get("tokenizer.ggml.token_type");
    EXPECT_EQ(std::get<std::int32_t>(types.array[0]), static_cast<int>(TokenType::Unknown));
    EXPECT_EQ(std::get<std::int32_t>(types.array[1]), static_cast<int>(TokenType::Control));
    EXPECT_EQ(std::get<std::int32_t>(types.array[3]), static_cast<int>(TokenType::Byte));
    EXPECT_EQ(std::get<std::int32_t>(types.array[300]), static_cast<int>(TokenType::Normal));
    EXPECT_EQ(r.get("tokenizer.ggml.scores").array.size(), 512u);

    // 1 + 5 * 9 + 1 + output: this checkpoint stores lm_head.weight (a copy of the tied
    // embedding), so it is written; a tied head that is not stored is left to llama.cpp,
    // which then reuses token_embd.
    EXPECT_EQ(r.tensors().size(), 48u);
    const auto& store = model->store();
    EXPECT_EQ(r.dequantize(r.tensor("output.weight")),
              floats_of(qs::load_tensor(store, "lm_head.weight")));
    const TensorInfo& embd = r.tensor("token_embd.weight");
    EXPECT_EQ(embd.dims, (std::vector<std::uint64_t>{64, 512}));
    EXPECT_EQ(r.dequantize(embd), floats_of(qs::load_tensor(store, "model.embed_tokens.weight")));
    EXPECT_EQ(r.tensor("output_norm.weight").dims, (std::vector<std::uint64_t>{64}));
    for (int i = 0; i < 5; ++i) {
        const std::string hf = "model.layers." + std::to_string(i) + ".";
        const std::string gg = "blk." + std::to_string(i) + ".";
        const auto q = qs::load_tensor(store, hf + "self_attn.q_proj.weight");
        const auto k = qs::load_tensor(store, hf + "self_attn.k_proj.weight");
        EXPECT_EQ(r.tensor(gg + "attn_q.weight").dims, (std::vector<std::uint64_t>{64, 64}));
        EXPECT_EQ(r.tensor(gg + "attn_k.weight").dims, (std::vector<std::uint64_t>{64, 32}));
        EXPECT_EQ(r.dequantize(r.tensor(gg + "attn_q.weight")),
                  floats_of(permute_qk_for_gguf(q, 8)));
        EXPECT_EQ(r.dequantize(r.tensor(gg + "attn_k.weight")),
                  floats_of(permute_qk_for_gguf(k, 4)));
        EXPECT_EQ(r.dequantize(r.tensor(gg + "attn_v.weight")),
                  floats_of(qs::load_tensor(store, hf + "self_attn.v_proj.weight")));
        EXPECT_EQ(r.tensor(gg + "ffn_down.weight").dims, (std::vector<std::uint64_t>{172, 64}));
        EXPECT_EQ(r.dequantize(r.tensor(gg + "ffn_down.weight")),
                  floats_of(qs::load_tensor(store, hf + "mlp.down_proj.weight")));
        EXPECT_EQ(r.dequantize(r.tensor(gg + "ffn_norm.weight")),
                  floats_of(qs::load_tensor(store, hf + "post_attention_layernorm.weight")));
    }
}

TEST(GgufLlama, Stories260KAsQ8_0FallsBackOnPartialBlocks)
{
    QS_REQUIRE_SHARED();
    auto model = qs::CausalLM::open(qs::test::stories_dir());
    TempDir dir;
    const std::string path = dir.file("stories.q8_0.gguf");
    GgufLlamaReport report;
    write_llama_gguf(*model, path, {TensorType::Q8_0, TensorType::F16}, nullptr, &report);
    // ffn_down rows hold 172 weights, not whole 32-blocks: F16 there, as llama-quantize does.
    EXPECT_EQ(report.fallback_tensors.size(), 5u);
    const GgufReader r(path);
    EXPECT_EQ(r.get("general.file_type").as_int(), 7);
    EXPECT_EQ(r.tensor("blk.0.ffn_down.weight").type, TensorType::F16);
    EXPECT_EQ(r.tensor("blk.0.ffn_gate.weight").type, TensorType::Q8_0);
    EXPECT_EQ(r.tensor("blk.0.attn_norm.weight").type, TensorType::F32);
    const auto v = qs::load_tensor(model->store(), "model.layers.2.self_attn.v_proj.weight");
    const auto bytes = r.tensor_data(r.tensor("blk.2.attn_v.weight"));
    EXPECT_EQ(std::vector<std::uint8_t>(bytes.begin(), bytes.end()),
              quantize_blocks(TensorType::Q8_0, floats_of(v)));
}

TEST(GgufLlama, CancelLeavesNoFile)
{
    QS_REQUIRE_SHARED();
    auto model = qs::CausalLM::open(qs::test::stories_dir());
    TempDir dir;
    qs::Feedback feedback;
    feedback.cancel();
    EXPECT_THROW(write_llama_gguf(*model, dir.file("x.gguf"), {}, &feedback), qs::CancelledError);
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
    EXPECT_THROW(write_llama_gguf(*model, dir.file("x.gguf"), {TensorType::Q4_K}), qs::QsError);
}

TEST(GgufLlama, VocabFromSentencePieceModel)
{
    QS_REQUIRE_SHARED();
    const std::string path = qs::test::shared_dir() + "/models/llama2-tokenizer/tokenizer.model";
    const GgufVocab v = read_sentencepiece_vocab_for_gguf(path, 32002);
    ASSERT_EQ(v.tokens.size(), 32002u);
    EXPECT_EQ(v.unk_id, 0);
    EXPECT_EQ(v.tokens[0], "<unk>");
    EXPECT_EQ(v.types[0], int(TokenType::Unknown));
    EXPECT_EQ(v.tokens[1], "<s>");
    EXPECT_EQ(v.types[1], int(TokenType::Control));
    EXPECT_EQ(v.tokens[3], "<0x00>");
    EXPECT_EQ(v.types[3], int(TokenType::Byte));
    EXPECT_EQ(v.tokens[15043], "\xE2\x96\x81Hello");  // "▁Hello", a normal piece with its score
    EXPECT_EQ(v.types[15043], int(TokenType::Normal));
    EXPECT_LT(v.scores[15043], 0.0f);
    EXPECT_GT(v.scores[15043], v.scores[31999]);  // earlier pieces score higher in Llama's model
    EXPECT_EQ(v.tokens[32001], "[PAD32001]");
    EXPECT_EQ(v.types[32001], int(TokenType::Unused));
    qs::test::expect_file_error([&] { read_sentencepiece_vocab_for_gguf(path, 100); }, path,
                                "embedding rows");
}
