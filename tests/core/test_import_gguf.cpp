// GGUF import: a tiny Llama written the way llama.cpp's convert_hf_to_gguf.py writes it (its
// tensor names, q/k rows permuted by LlamaModel.permute, llama.* keys; F32, F16, Q8_0, Q4_0
// tensors) comes back as a Hugging Face checkpoint whose tensors, permuted again, equal the
// GGUF's dequantized tensors exactly, and whose logits match the source model. stories260K
// exported by QuantScope's own GGUF writer round-trips to the same logits.
#include <cstring>
#include <filesystem>
#include <functional>
#include <numeric>
#include <random>
#include <fstream>
#include <span>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/export/gguf_blocks.h"
#include "core/export/gguf_llama.h"
#include "core/export/gguf_writer.h"
#include "core/export/import_checkpoint.h"
#include "core/io/tensor_torch.h"
#include "core/util/error.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

using gguf::TensorType;

// convert_hf_to_gguf.py's LlamaModel.permute, transcribed:
//   w.reshape(n_head, 2, rows // n_head // 2, *rest).swapaxes(1, 2).reshape(w.shape)
torch::Tensor convert_permute(const torch::Tensor& w, std::int64_t n_head)
{
    auto shape = w.sizes().vec();
    std::vector<std::int64_t> split = {n_head, 2, shape[0] / n_head / 2};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    return w.reshape(split).transpose(1, 2).reshape(shape).contiguous();
}

struct GgufTensor {
    std::string gguf_name;
    std::int64_t permute_heads = 0;
    TensorType type = TensorType::F32;
};

// HF name -> how the test writes it.
std::map<std::string, GgufTensor> gguf_plan(bool quantized)
{
    const auto q = [&](TensorType t) { return quantized ? t : TensorType::F32; };
    std::map<std::string, GgufTensor> plan = {
        {"model.embed_tokens.weight", {"token_embd.weight", 0, q(TensorType::Q4_0)}},
        {"model.norm.weight", {"output_norm.weight", 0, TensorType::F32}},
        {"lm_head.weight", {"output.weight", 0, q(TensorType::Q8_0)}}};
    for (int i = 0; i < 2; ++i) {
        const std::string hf = "model.layers." + std::to_string(i) + ".";
        const std::string gg = "blk." + std::to_string(i) + ".";
        plan[hf + "input_layernorm.weight"] = {gg + "attn_norm.weight", 0, TensorType::F32};
        plan[hf + "post_attention_layernorm.weight"] = {gg + "ffn_norm.weight", 0, TensorType::F32};
        plan[hf + "self_attn.q_proj.weight"] = {gg + "attn_q.weight", 4, q(TensorType::Q8_0)};
        plan[hf + "self_attn.k_proj.weight"] = {gg + "attn_k.weight", 2, q(TensorType::Q4_0)};
        plan[hf + "self_attn.v_proj.weight"] = {gg + "attn_v.weight", 0, q(TensorType::MXFP4)};
        plan[hf + "self_attn.o_proj.weight"] = {gg + "attn_output.weight", 0, q(TensorType::F16)};
        plan[hf + "mlp.gate_proj.weight"] = {gg + "ffn_gate.weight", 0, q(TensorType::Q8_0)};
        plan[hf + "mlp.up_proj.weight"] = {gg + "ffn_up.weight", 0, q(TensorType::Q8_0)};
        // rows of 48: not whole 32-blocks, F16 as llama.cpp's quantizer falls back
        plan[hf + "mlp.down_proj.weight"] = {gg + "ffn_down.weight", 0, q(TensorType::F16)};
    }
    return plan;
}

// Writes the synthetic Llama as a GGUF; returns each HF tensor as the GGUF holds it
// (permuted, dequantized), keyed by HF name.
std::map<std::string, torch::Tensor> write_gguf(const test::SyntheticCheckpoint& model,
                                                const std::string& path, bool quantized)
{
    gguf::GgufWriter w;
    w.set("general.architecture", "llama");
    w.set("llama.context_length", std::uint32_t{128});
    w.set("llama.embedding_length", std::uint32_t{32});
    w.set("llama.block_count", std::uint32_t{2});
    w.set("llama.feed_forward_length", std::uint32_t{48});
    w.set("llama.attention.head_count", std::uint32_t{4});
    w.set("llama.attention.head_count_kv", std::uint32_t{2});
    w.set("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.set("llama.rope.freq_base", 10000.0f);
    w.set("tokenizer.ggml.bos_token_id", std::uint32_t{1});
    std::map<std::string, torch::Tensor> stored;
    for (const auto& [hf, t] : gguf_plan(quantized)) {
        torch::Tensor values = model.tensors.at(hf).contiguous();
        if (t.permute_heads) values = convert_permute(values, t.permute_heads);
        const std::span<const float> x(values.data_ptr<float>(),
                                       static_cast<std::size_t>(values.numel()));
        auto bytes = gguf::quantize_blocks(t.type, x);
        auto back = gguf::dequantize_blocks(t.type, bytes, x.size());
        stored[hf] = torch::tensor(back).reshape(values.sizes());
        std::vector<std::uint64_t> dims(values.sizes().rbegin(), values.sizes().rend());
        w.add_tensor(t.gguf_name, dims, t.type, std::move(bytes));
    }
    w.write(path);
    return stored;
}

class ImportGguf : public ::testing::TestWithParam<bool> {};

TEST_P(ImportGguf, UndoesNamesAndPermutationExactly)
{
    const bool quantized = GetParam();
    const test::TempDir tmp;
    const auto source = test::synthetic_llama_family("llama", 2, 21);
    const auto stored = write_gguf(source, tmp.file("tiny.gguf"), quantized);
    EXPECT_EQ(detect_import_format(tmp.file("tiny.gguf")), "gguf");
    const auto summary = import_checkpoint(tmp.file("tiny.gguf"), tmp.file("out"), false, nullptr);
    EXPECT_EQ(summary.source_format, "gguf");
    EXPECT_FALSE(summary.has_tokenizer);
    EXPECT_EQ(summary.tensors, source.tensors.size());

    auto model = CausalLM::open(tmp.file("out"), torch::kCPU, /*with_tokenizer=*/false);
    const auto plan = gguf_plan(quantized);
    for (const auto& [hf, t] : plan) {
        auto loaded = load_tensor(model->store(), hf);
        if (t.permute_heads) loaded = convert_permute(loaded, t.permute_heads);
        EXPECT_TRUE(torch::equal(loaded, stored.at(hf)))
            << hf << ": " << test::describe_max_diff(stored.at(hf), loaded);
        if (!quantized)
            EXPECT_TRUE(torch::equal(load_tensor(model->store(), hf), source.tensors.at(hf)));
    }
    const auto& c = model->config();
    EXPECT_EQ(c.hidden_size, 32);
    EXPECT_EQ(c.num_heads, 4);
    EXPECT_EQ(c.num_kv_heads, 2);
    EXPECT_EQ(c.intermediate_size, 48);
    EXPECT_EQ(c.vocab_size, test::kVocab);
    EXPECT_FALSE(c.tie_word_embeddings);

    // Same function as the source: exactly for F32 (up to the eps stored as float32); with
    // 4-bit tensors the logits only stay close.
    const auto tokens = test::random_tokens(10, 3);
    auto reference = source.open(tmp.file("reference"));
    const auto logits = test::logits_of(*model, tokens);
    const auto expected = test::logits_of(*reference, tokens);
    if (!quantized) {
        EXPECT_LT(test::max_abs_diff(logits, expected), 1e-4);
    } else {
        const double cosine =
            torch::cosine_similarity(logits.flatten(), expected.flatten(), 0).item<double>();
        EXPECT_GT(cosine, 0.95) << cosine;
    }
}

INSTANTIATE_TEST_SUITE_P(Types, ImportGguf, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Quantized" : "F32"; });

// Random K-quant blocks with small finite fp16 super-block scales (d, dmin): any other bytes
// are valid codes and sub-block scales.
std::vector<std::uint8_t> random_k_blocks(TensorType type, std::size_t n, std::uint32_t seed)
{
    const auto bytes = *gguf::tensor_bytes(type, n);
    const auto block = gguf::tensor_type_traits(type).block_bytes;
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> b(bytes);
    for (auto& x : b)
        x = static_cast<std::uint8_t>(rng());
    // Offsets of d and dmin inside each block (ggml-common.h's block_qN_K).
    std::vector<std::size_t> halves;
    if (type == TensorType::Q2_K) halves = {80, 82};
    if (type == TensorType::Q3_K) halves = {108};
    if (type == TensorType::Q4_K || type == TensorType::Q5_K) halves = {0, 2};
    if (type == TensorType::Q6_K) halves = {208};
    for (std::size_t at = 0; at < bytes; at += block)
        for (std::size_t h : halves) {
            const std::uint16_t v = gguf::fp32_to_fp16(0.002f * float(1 + rng() % 8));
            std::memcpy(&b[at + h], &v, sizeof(v));
        }
    return b;
}

// Every K-quant type, on a Llama of hidden 256 (rows of one super-block): the imported weights
// are the blocks' dequantized values (q/k un-permuted) and the model runs.
TEST(ImportGguf, KQuantTensors)
{
    const test::TempDir tmp;
    const std::int64_t hidden = 256, kv_dim = 2 * 64;
    std::map<std::string, std::vector<std::int64_t>> shapes = {
        {"model.embed_tokens.weight", {test::kVocab, hidden}},
        {"model.norm.weight", {hidden}},
        {"lm_head.weight", {test::kVocab, hidden}}};
    for (int i = 0; i < 2; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        for (const char* norm : {"input_layernorm.weight", "post_attention_layernorm.weight"})
            shapes[p + norm] = {hidden};
        for (const char* square :
             {"self_attn.q_proj.weight", "self_attn.o_proj.weight", "mlp.gate_proj.weight",
              "mlp.up_proj.weight", "mlp.down_proj.weight"})
            shapes[p + square] = {hidden, hidden};
        shapes[p + "self_attn.k_proj.weight"] = {kv_dim, hidden};
        shapes[p + "self_attn.v_proj.weight"] = {kv_dim, hidden};
    }
    gguf::GgufWriter w;
    w.set("general.architecture", "llama");
    w.set("llama.embedding_length", std::uint32_t{256});
    w.set("llama.block_count", std::uint32_t{2});
    w.set("llama.feed_forward_length", std::uint32_t{256});
    w.set("llama.attention.head_count", std::uint32_t{4});
    w.set("llama.attention.head_count_kv", std::uint32_t{2});
    const TensorType k_types[] = {TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K,
                                  TensorType::Q5_K, TensorType::Q6_K};
    std::map<std::string, torch::Tensor> stored;
    std::uint32_t next = 0;
    torch::manual_seed(4);
    for (const auto& [hf, t] : gguf_plan(false)) {
        const auto& shape = shapes.at(hf);
        std::vector<std::uint64_t> dims(shape.rbegin(), shape.rend());
        const auto n = static_cast<std::size_t>(
            std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>()));
        if (shape.size() == 1 || hf == "model.embed_tokens.weight") {
            stored[hf] = shape.size() == 1 ? test::random_norm(shape[0])
                                           : torch::randn({shape[0], shape[1]});
            w.add_tensor(
                t.gguf_name, dims, TensorType::F32,
                gguf::quantize_blocks(TensorType::F32,
                                      std::span<const float>(stored[hf].data_ptr<float>(), n)));
            continue;
        }
        const TensorType type = k_types[next % 5];
        auto bytes = random_k_blocks(type, n, ++next);
        stored[hf] = torch::tensor(gguf::dequantize_blocks(type, bytes, n)).reshape(shape);
        w.add_tensor(t.gguf_name, dims, type, std::move(bytes));
    }
    w.write(tmp.file("k.gguf"));
    const auto summary = import_checkpoint(tmp.file("k.gguf"), tmp.file("out"), false, nullptr);
    EXPECT_EQ(summary.dequantized_tensors, 15u);  // 14 linears + lm_head
    auto imported = CausalLM::open(tmp.file("out"), torch::kCPU, false);
    EXPECT_EQ(imported->config().hidden_size, hidden);
    for (const auto& [hf, t] : gguf_plan(false)) {
        auto loaded = load_tensor(imported->store(), hf);
        if (t.permute_heads) loaded = convert_permute(loaded, t.permute_heads);
        EXPECT_TRUE(torch::equal(loaded, stored.at(hf))) << hf;
    }
    const auto logits = test::logits_of(*imported, test::random_tokens(6, 2));
    EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

TEST(ImportGgufErrors, UnknownTensorAndArchitectureAreNamed)
{
    const test::TempDir tmp;
    gguf::GgufWriter w;
    w.set("general.architecture", "falcon");
    w.write(tmp.file("falcon.gguf"));
    try {
        import_checkpoint(tmp.file("falcon.gguf"), tmp.file("out"), false, nullptr);
        FAIL();
    } catch (const QsError& e) {
        EXPECT_NE(std::string(e.what()).find(tmp.file("falcon.gguf") +
                                             ": architecture 'falcon' is not supported"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(tmp.file("out")));
}

nlohmann::json json_of(const std::string& path)
{
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

// stories260K -> our GGUF export (llama.cpp's names, permuted q/k, tokenizer.ggml.* with
// merge-rank scores) -> import: the same tensors bit for bit, the same logits, and a rebuilt
// tokenizer.json whose vocabulary and merges equal the original's, so text encodes the same.
TEST(ImportGgufRoundTrip, Stories260KThroughOurExport)
{
    QS_REQUIRE_SHARED();
    const test::TempDir tmp;
    auto original = CausalLM::open(test::stories_dir());
    gguf::write_llama_gguf(*original, tmp.file("stories.gguf"), {});
    const auto summary =
        import_checkpoint(tmp.file("stories.gguf"), tmp.file("out"), false, nullptr);
    EXPECT_TRUE(summary.has_tokenizer);
    auto imported = CausalLM::open(tmp.file("out"));
    for (const auto& name : original->store().names())
        EXPECT_TRUE(torch::equal(load_tensor(imported->store(), name),
                                 load_tensor(original->store(), name)))
            << name;
    // Whether the export writes output.weight for a tied model or not, the head is the embedding.
    const auto head =
        imported->config().tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
    EXPECT_TRUE(torch::equal(load_tensor(imported->store(), head),
                             load_tensor(original->store(), "model.embed_tokens.weight")));
    const std::vector<std::int64_t> tokens = {1, 403, 407, 261, 378, 395, 44, 306};
    const auto a = original->forward(torch::tensor(tokens).unsqueeze(0));
    const auto b = imported->forward(torch::tensor(tokens).unsqueeze(0));
    EXPECT_LT(test::max_abs_diff(a, b), 1e-4);

    const auto before = json_of(test::stories_dir() + "/tokenizer.json");
    const auto after = json_of(tmp.file("out/tokenizer.json"));
    EXPECT_EQ(after["model"]["vocab"], before["model"]["vocab"]);
    EXPECT_EQ(after["model"]["merges"], before["model"]["merges"]);
    EXPECT_EQ(after["normalizer"], before["normalizer"]);
    EXPECT_EQ(after["decoder"], before["decoder"]);
    EXPECT_EQ(after["post_processor"], before["post_processor"]);
    EXPECT_EQ(after["added_tokens"], before["added_tokens"]);
    for (const std::string text :
         {"Once upon a time, there was a little girl named Lily.", "  two  spaces\nand a tab\t",
          "caf\u00e9 \U0001F436 <s> end</s>", ""}) {
        EXPECT_EQ(imported->tokenizer().encode(text), original->tokenizer().encode(text)) << text;
        const auto ids = original->tokenizer().encode(text);
        EXPECT_EQ(imported->tokenizer().decode(ids), original->tokenizer().decode(ids)) << text;
    }
}

}  // namespace
}  // namespace qs
