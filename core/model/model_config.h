// Architecture description parsed from a Hugging Face config.json. Supported model_type:
// llama, mistral, qwen2 (the "Llama family": RMSNorm, RoPE, SwiGLU, GQA) and opt (LayerNorm,
// learned positions with offset 2, ReLU, pre- or post-LN, optional project_in/out).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace qs {

enum class Architecture { Llama, Opt };

struct RopeScaling {
    std::string type;  // "" (none), "llama3", "linear"
    double factor = 1.0;
    double low_freq_factor = 1.0;
    double high_freq_factor = 4.0;
    std::int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
    std::string model_type;  // as in config.json
    Architecture arch = Architecture::Llama;
    std::int64_t hidden_size = 0;
    std::int64_t intermediate_size = 0;  // OPT: ffn_dim
    std::int64_t num_layers = 0;
    std::int64_t num_heads = 0;
    std::int64_t num_kv_heads = 0;  // == num_heads without GQA
    std::int64_t head_dim = 0;
    std::int64_t vocab_size = 0;
    std::int64_t max_position_embeddings = 0;
    double norm_eps = 1e-5;  // rms_norm_eps (Llama) or layer_norm_epsilon (OPT, 1e-5)
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    bool tie_word_embeddings = false;
    bool attention_bias = false;  // q,k,v (and o for llama when attention_bias) biases
    bool o_proj_bias = false;
    bool mlp_bias = false;
    std::string hidden_act = "silu";
    std::optional<std::int64_t> sliding_window;  // Mistral / Qwen2 when enabled
    // OPT only
    bool do_layer_norm_before = true;
    std::int64_t word_embed_proj_dim = 0;  // == hidden_size unless project_in/out exist
    bool enable_bias = true;
    bool remove_final_layer_norm = false;
    std::string torch_dtype = "float32";
    std::int64_t bos_token_id = -1;
    std::int64_t eos_token_id = -1;

    // Parses and validates; throws QsError "<path>: <problem>" for a missing or inconsistent
    // key or an unsupported model_type.
    static ModelConfig load(const std::string& config_json_path);
    static ModelConfig parse(const std::string& json_text, const std::string& source_name);
};

}  // namespace qs
