// Tiny random-initialised Hugging Face checkpoints (config.json + model.safetensors, no
// tokenizer) for forward-pass tests that need an architecture stories260K does not cover.
// Tensors are kept as float32 torch tensors keyed by checkpoint name so a test can edit a
// weight or a config key before writing. Weights are scaled by 1/sqrt(fan_in) so activations
// stay O(1) and a changed input visibly changes the logits. Copies of a SyntheticCheckpoint
// share tensor storage: to edit a copy, assign a new tensor rather than modifying in place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/safetensors_writer.h"
#include "core/model/causal_lm.h"

namespace qs::test {

struct SyntheticCheckpoint {
    nlohmann::json config;
    std::map<std::string, torch::Tensor> tensors;

    torch::Tensor& at(const std::string& name) { return tensors.at(name); }

    // Writes config.json and a single float32 model.safetensors into dir (created if needed).
    void write(const std::string& dir) const
    {
        std::filesystem::create_directories(dir);
        std::ofstream(dir + "/config.json") << config.dump(2);
        SafetensorsWriter writer;
        for (const auto& [name, tensor] : tensors) {
            auto values = tensor.to(torch::kFloat32).contiguous();
            writer.add_f32(name, values.sizes().vec(), values.data_ptr<float>());
        }
        writer.write(dir + "/model.safetensors");
    }

    std::unique_ptr<CausalLM> open(const std::string& dir) const
    {
        write(dir);
        return CausalLM::open(dir, torch::kCPU, /*with_tokenizer=*/false);
    }
};

inline torch::Tensor random_linear(std::int64_t out, std::int64_t in)
{
    return torch::randn({out, in}) / std::sqrt(double(in));
}

inline torch::Tensor random_norm(std::int64_t size)
{
    return 1.0 + 0.1 * torch::randn({size});
}

constexpr std::int64_t kVocab = 97;

// llama / mistral / qwen2 with hidden 32, 4 query heads of dim 8, 2 layers. qwen2 gets the
// q/k/v biases its attention hard-codes (and no o_proj bias).
inline SyntheticCheckpoint synthetic_llama_family(const std::string& model_type,
                                                  std::int64_t kv_heads, std::uint64_t seed)
{
    const std::int64_t hidden = 32, heads = 4, head_dim = 8, ffn = 48, layers = 2;
    torch::manual_seed(seed);
    SyntheticCheckpoint c;
    c.config = {{"model_type", model_type},     {"hidden_size", hidden},
                {"intermediate_size", ffn},     {"num_hidden_layers", layers},
                {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads},
                {"vocab_size", kVocab},         {"max_position_embeddings", 128},
                {"rms_norm_eps", 1e-5},         {"rope_theta", 10000.0},
                {"tie_word_embeddings", false}};
    c.tensors["model.embed_tokens.weight"] = torch::randn({kVocab, hidden});
    for (std::int64_t i = 0; i < layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        c.tensors[p + "input_layernorm.weight"] = random_norm(hidden);
        c.tensors[p + "self_attn.q_proj.weight"] = random_linear(heads * head_dim, hidden);
        c.tensors[p + "self_attn.k_proj.weight"] = random_linear(kv_heads * head_dim, hidden);
        c.tensors[p + "self_attn.v_proj.weight"] = random_linear(kv_heads * head_dim, hidden);
        c.tensors[p + "self_attn.o_proj.weight"] = random_linear(hidden, heads * head_dim);
        if (model_type == "qwen2") {
            c.tensors[p + "self_attn.q_proj.bias"] = 0.5 * torch::randn({heads * head_dim});
            c.tensors[p + "self_attn.k_proj.bias"] = 0.5 * torch::randn({kv_heads * head_dim});
            c.tensors[p + "self_attn.v_proj.bias"] = 0.5 * torch::randn({kv_heads * head_dim});
        }
        c.tensors[p + "post_attention_layernorm.weight"] = random_norm(hidden);
        c.tensors[p + "mlp.gate_proj.weight"] = random_linear(ffn, hidden);
        c.tensors[p + "mlp.up_proj.weight"] = random_linear(ffn, hidden);
        c.tensors[p + "mlp.down_proj.weight"] = random_linear(hidden, ffn);
    }
    c.tensors["model.norm.weight"] = random_norm(hidden);
    c.tensors["lm_head.weight"] = random_linear(kVocab, hidden);
    return c;
}

// OPT with hidden 32, 4 heads, 2 layers, tied lm_head. word_embed_proj_dim != 32 adds
// project_in/out; post-LN (pre_ln false) has no decoder final_layer_norm, as in transformers.
inline SyntheticCheckpoint synthetic_opt(bool pre_ln, std::int64_t word_embed_proj_dim,
                                         std::uint64_t seed)
{
    const std::int64_t hidden = 32, heads = 4, ffn = 48, layers = 2, positions = 64;
    torch::manual_seed(seed);
    SyntheticCheckpoint c;
    c.config = {{"model_type", "opt"},
                {"hidden_size", hidden},
                {"ffn_dim", ffn},
                {"num_hidden_layers", layers},
                {"num_attention_heads", heads},
                {"vocab_size", kVocab},
                {"max_position_embeddings", positions},
                {"do_layer_norm_before", pre_ln},
                {"word_embed_proj_dim", word_embed_proj_dim}};
    const std::string base = "model.decoder.";
    c.tensors[base + "embed_tokens.weight"] = torch::randn({kVocab, word_embed_proj_dim});
    c.tensors[base + "embed_positions.weight"] = torch::randn({positions + 2, hidden});
    if (word_embed_proj_dim != hidden) {
        c.tensors[base + "project_in.weight"] = random_linear(hidden, word_embed_proj_dim);
        c.tensors[base + "project_out.weight"] = random_linear(word_embed_proj_dim, hidden);
    }
    auto add_linear = [&](const std::string& name, std::int64_t out, std::int64_t in) {
        c.tensors[name + ".weight"] = random_linear(out, in);
        c.tensors[name + ".bias"] = 0.1 * torch::randn({out});
    };
    auto add_norm = [&](const std::string& name) {
        c.tensors[name + ".weight"] = random_norm(hidden);
        c.tensors[name + ".bias"] = 0.1 * torch::randn({hidden});
    };
    for (std::int64_t i = 0; i < layers; ++i) {
        const std::string p = base + "layers." + std::to_string(i) + ".";
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"})
            add_linear(p + "self_attn." + proj, hidden, hidden);
        add_norm(p + "self_attn_layer_norm");
        add_linear(p + "fc1", ffn, hidden);
        add_linear(p + "fc2", hidden, ffn);
        add_norm(p + "final_layer_norm");
    }
    if (pre_ln) add_norm(base + "final_layer_norm");
    return c;
}

// Logits [T, vocab] of one sequence.
inline torch::Tensor logits_of(const CausalLM& model, const std::vector<std::int64_t>& ids)
{
    return model.forward(torch::tensor(ids).unsqueeze(0)).squeeze(0);
}

inline std::vector<std::int64_t> random_tokens(std::int64_t count, std::uint64_t seed)
{
    torch::manual_seed(seed);
    auto t = torch::randint(kVocab, {count}, torch::kLong);
    return std::vector<std::int64_t>(t.data_ptr<std::int64_t>(),
                                     t.data_ptr<std::int64_t>() + count);
}

// "max |actual - expected| = d at [i, j]: expected x, actual y" for assertion messages.
inline std::string describe_max_diff(const torch::Tensor& expected, const torch::Tensor& actual)
{
    auto diff = (actual - expected).abs();
    const auto flat = diff.argmax().item<std::int64_t>();
    std::ostringstream out;
    out << "max |actual - expected| = " << diff.max().item<double>() << " at flat index " << flat
        << ": expected " << expected.reshape({-1})[flat].item<double>() << ", actual "
        << actual.reshape({-1})[flat].item<double>();
    return out.str();
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a - b).abs().max().item<double>();
}

}  // namespace qs::test
