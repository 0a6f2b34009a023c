// Defaults follow the Hugging Face config classes (LlamaConfig, MistralConfig, Qwen2Config,
// OPTConfig) so that a config.json that omits a key means what transformers would make of it.
// Keys set to null count as absent, as transformers treats them. Anything the forward pass
// cannot honour (another activation, an unknown RoPE scaling) is an error here rather than
// silently wrong logits later.
#include "core/model/model_config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace qs {

namespace {

using nlohmann::json;

// Typed access to one JSON object; errors name the source file and the (dotted) key.
class ConfigReader {
public:
    ConfigReader(const json& object, const std::string& source, std::string prefix = "")
        : m_json(object), m_source(source), m_prefix(std::move(prefix))
    {
    }

    [[noreturn]] void fail(const std::string& problem) const { fail_file(m_source, problem); }
    bool has(const std::string& key) const
    {
        return m_json.contains(key) && !m_json.at(key).is_null();
    }
    const json& at(const std::string& key) const
    {
        if (!has(key)) fail("missing key '" + m_prefix + key + "'");
        return m_json.at(key);
    }

    std::int64_t integer(const std::string& key) const
    {
        const json& v = at(key);
        if (v.is_number_integer()) return v.get<std::int64_t>();
        // Some exporters write integral values as 4096.0.
        if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())
            return static_cast<std::int64_t>(v.get<double>());
        wrong_type(key, "an integer");
    }
    std::int64_t integer(const std::string& key, std::int64_t fallback) const
    {
        return has(key) ? integer(key) : fallback;
    }
    double number(const std::string& key) const
    {
        const json& v = at(key);
        if (!v.is_number()) wrong_type(key, "a number");
        return v.get<double>();
    }
    double number(const std::string& key, double fallback) const
    {
        return has(key) ? number(key) : fallback;
    }
    bool boolean(const std::string& key, bool fallback) const
    {
        if (!has(key)) return fallback;
        const json& v = at(key);
        if (!v.is_boolean()) wrong_type(key, "true or false");
        return v.get<bool>();
    }
    std::string string(const std::string& key, const std::string& fallback) const
    {
        if (!has(key)) return fallback;
        const json& v = at(key);
        if (!v.is_string()) wrong_type(key, "a string");
        return v.get<std::string>();
    }
    // An id or, as in Llama 3 and Qwen2 chat configs, a list of ids (the first is used).
    std::int64_t token_id(const std::string& key) const
    {
        if (!has(key)) return -1;
        const json& v = at(key);
        if (v.is_array()) {
            if (v.empty()) return -1;
            if (!v[0].is_number_integer()) wrong_type(key, "an integer or a list of integers");
            return v[0].get<std::int64_t>();
        }
        return integer(key);
    }

private:
    [[noreturn]] void wrong_type(const std::string& key, const std::string& expected) const
    {
        fail("key '" + m_prefix + key + "' must be " + expected + " (got " +
             m_json.at(key).type_name() + ")");
    }

    const json& m_json;
    const std::string& m_source;
    std::string m_prefix;
};

void require_positive(const ConfigReader& config, const char* key, std::int64_t value)
{
    if (value <= 0)
        config.fail(std::string("key '") + key + "' must be positive (got " +
                    std::to_string(value) + ")");
}

void parse_llama_family(const ConfigReader& c, const std::string& source, ModelConfig& m)
{
    m.arch = Architecture::Llama;
    m.hidden_size = c.integer("hidden_size");
    m.intermediate_size = c.integer("intermediate_size");
    m.num_layers = c.integer("num_hidden_layers");
    m.num_heads = c.integer("num_attention_heads");
    m.vocab_size = c.integer("vocab_size");
    require_positive(c, "num_attention_heads", m.num_heads);
    m.num_kv_heads = c.integer("num_key_value_heads", m.num_heads);
    if (!c.has("head_dim") && m.hidden_size % m.num_heads != 0)
        c.fail("hidden_size " + std::to_string(m.hidden_size) +
               " is not divisible by num_attention_heads " + std::to_string(m.num_heads));
    m.head_dim = c.integer("head_dim", m.hidden_size / m.num_heads);

    const std::int64_t default_positions = m.model_type == "qwen2"     ? 32768
                                           : m.model_type == "mistral" ? 131072
                                                                       : 2048;
    m.max_position_embeddings = c.integer("max_position_embeddings", default_positions);
    m.norm_eps = c.number("rms_norm_eps", 1e-6);
    m.rope_theta = c.number("rope_theta", 10000.0);

    if (c.has("rope_scaling")) {
        const json& object = c.at("rope_scaling");
        if (!object.is_object()) c.fail("key 'rope_scaling' must be an object");
        ConfigReader rope(object, source, "rope_scaling.");
        std::string type = rope.string("rope_type", rope.string("type", "default"));
        if (type == "linear") {
            m.rope_scaling.type = type;
            m.rope_scaling.factor = rope.number("factor");
        } else if (type == "llama3") {
            m.rope_scaling.type = type;
            m.rope_scaling.factor = rope.number("factor");
            m.rope_scaling.low_freq_factor = rope.number("low_freq_factor", 1.0);
            m.rope_scaling.high_freq_factor = rope.number("high_freq_factor", 4.0);
            m.rope_scaling.original_max_position_embeddings =
                rope.integer("original_max_position_embeddings", 8192);
        } else if (type != "default") {
            c.fail("unsupported rope_scaling type '" + type + "' (supported: linear, llama3)");
        }
        if (m.rope_scaling.factor <= 0) c.fail("key 'rope_scaling.factor' must be positive");
    }

    m.tie_word_embeddings = c.boolean("tie_word_embeddings", false);
    if (m.model_type == "qwen2") {
        // Qwen2Attention hard-codes bias=True for q, k, v and bias=False for o_proj.
        m.attention_bias = true;
        m.o_proj_bias = false;
    } else {
        m.attention_bias = c.boolean("attention_bias", false);
        m.o_proj_bias = m.model_type == "llama" && m.attention_bias;
    }
    m.mlp_bias = m.model_type == "llama" && c.boolean("mlp_bias", false);

    m.hidden_act = c.string("hidden_act", "silu");
    if (m.hidden_act != "silu")
        c.fail("hidden_act '" + m.hidden_act + "' is not supported for " + m.model_type +
               " (only silu)");

    if (m.model_type == "qwen2" && c.boolean("use_sliding_window", false))
        m.sliding_window = c.integer("sliding_window", 4096);
    if (m.model_type == "mistral" && c.has("sliding_window"))
        m.sliding_window = c.integer("sliding_window");
}

void parse_opt(const ConfigReader& c, ModelConfig& m)
{
    m.arch = Architecture::Opt;
    m.hidden_size = c.integer("hidden_size");
    m.intermediate_size = c.integer("ffn_dim");
    m.num_layers = c.integer("num_hidden_layers");
    m.num_heads = c.integer("num_attention_heads");
    m.vocab_size = c.integer("vocab_size");
    m.max_position_embeddings = c.integer("max_position_embeddings");
    require_positive(c, "num_attention_heads", m.num_heads);
    m.num_kv_heads = m.num_heads;
    if (m.hidden_size % m.num_heads != 0)
        c.fail("hidden_size " + std::to_string(m.hidden_size) +
               " is not divisible by num_attention_heads " + std::to_string(m.num_heads));
    m.head_dim = m.hidden_size / m.num_heads;
    m.norm_eps = 1e-5;  // OPT uses nn.LayerNorm's default; its config has no epsilon key

    m.do_layer_norm_before = c.boolean("do_layer_norm_before", true);
    m.word_embed_proj_dim = c.integer("word_embed_proj_dim", m.hidden_size);
    m.enable_bias = c.boolean("enable_bias", true);
    m.attention_bias = m.o_proj_bias = m.mlp_bias = m.enable_bias;
    m.remove_final_layer_norm = c.boolean("_remove_final_layer_norm", false);
    m.tie_word_embeddings = c.boolean("tie_word_embeddings", true);
    m.hidden_act = c.string("activation_function", "relu");
    if (m.hidden_act != "relu")
        c.fail("activation_function '" + m.hidden_act + "' is not supported for opt (only relu)");
    // Every published OPT checkpoint has affine LayerNorms; without them the norm tensors the
    // forward pass reads would not exist.
    if (!c.boolean("layer_norm_elementwise_affine", true))
        c.fail("layer_norm_elementwise_affine false is not supported");
    require_positive(c, "word_embed_proj_dim", m.word_embed_proj_dim);
}

}  // namespace

ModelConfig ModelConfig::parse(const std::string& json_text, const std::string& source_name)
{
    json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) fail_file(source_name, "not valid JSON");
    if (!root.is_object()) fail_file(source_name, "top level is not a JSON object");
    ConfigReader c(root, source_name);

    ModelConfig m;
    m.model_type = c.string("model_type", "");
    if (m.model_type.empty()) c.fail("missing key 'model_type'");
    if (m.model_type == "llama" || m.model_type == "mistral" || m.model_type == "qwen2")
        parse_llama_family(c, source_name, m);
    else if (m.model_type == "opt")
        parse_opt(c, m);
    else
        c.fail("unsupported model_type '" + m.model_type +
               "' (supported: llama, mistral, qwen2, opt)");

    require_positive(c, "hidden_size", m.hidden_size);
    require_positive(c, m.arch == Architecture::Opt ? "ffn_dim" : "intermediate_size",
                     m.intermediate_size);
    require_positive(c, "num_hidden_layers", m.num_layers);
    require_positive(c, "num_key_value_heads", m.num_kv_heads);
    require_positive(c, "head_dim", m.head_dim);
    require_positive(c, "vocab_size", m.vocab_size);
    require_positive(c, "max_position_embeddings", m.max_position_embeddings);
    if (m.num_heads % m.num_kv_heads != 0)
        c.fail("num_attention_heads " + std::to_string(m.num_heads) +
               " is not divisible by num_key_value_heads " + std::to_string(m.num_kv_heads));
    if (!(m.norm_eps > 0)) c.fail("key 'rms_norm_eps' must be positive");
    if (m.sliding_window) require_positive(c, "sliding_window", *m.sliding_window);

    m.torch_dtype = c.string("torch_dtype", c.string("dtype", "float32"));
    m.bos_token_id = c.token_id("bos_token_id");
    m.eos_token_id = c.token_id("eos_token_id");
    return m;
}

ModelConfig ModelConfig::load(const std::string& config_json_path)
{
    std::ifstream in(config_json_path, std::ios::binary);
    if (!in) fail_file(config_json_path, "cannot read file");
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), config_json_path);
}

}  // namespace qs
