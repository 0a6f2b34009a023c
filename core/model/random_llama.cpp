#include "core/model/random_llama.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/safetensors_writer.h"
#include "core/io/tensor_torch.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/partial_directory.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

class ShardWriter {
public:
    ShardWriter(DType dtype, std::string dir) : m_dtype(dtype), m_dir(std::move(dir)) {}

    void add(const std::string& name, const torch::Tensor& values)
    {
        auto t = values.to(torch_dtype_of(m_dtype, m_dir)).contiguous();
        const auto* bytes = static_cast<const std::uint8_t*>(t.data_ptr());
        const std::size_t size = t.numel() * t.element_size();
        m_writer.add(name, m_dtype, t.sizes().vec(),
                     std::vector<std::uint8_t>(bytes, bytes + size));
        m_names.push_back(name);
        m_bytes += size;
    }

    // Writes the tensors added since the last flush as one shard file.
    void flush(const std::string& file)
    {
        m_writer.write(m_dir + "/" + file);
        for (const auto& name : m_names)
            m_weight_map[name] = file;
        m_names.clear();
        m_writer = SafetensorsWriter();
    }

    const std::map<std::string, std::string>& weight_map() const { return m_weight_map; }
    std::size_t total_bytes() const { return m_bytes; }

private:
    DType m_dtype;
    std::string m_dir;
    SafetensorsWriter m_writer;
    std::vector<std::string> m_names;
    std::map<std::string, std::string> m_weight_map;
    std::size_t m_bytes = 0;
};

nlohmann::json llama_config(const RandomLlamaSpec& s)
{
    const char* dtype = s.dtype == DType::BF16  ? "bfloat16"
                        : s.dtype == DType::F16 ? "float16"
                                                : "float32";
    return {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", s.hidden_size},
            {"intermediate_size", s.intermediate_size},
            {"num_hidden_layers", s.num_layers},
            {"num_attention_heads", s.num_heads},
            {"num_key_value_heads", s.num_kv_heads},
            {"vocab_size", s.vocab_size},
            {"max_position_embeddings", s.max_position_embeddings},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"hidden_act", "silu"},
            {"tie_word_embeddings", s.tie_word_embeddings},
            {"attention_bias", false},
            {"mlp_bias", false},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"initializer_range", s.initializer_range},
            {"torch_dtype", dtype},
            {"quantscope_random_init",
             {{"seed", s.seed},
              {"outlier_channels", s.outlier_channels},
              {"outlier_gain", s.outlier_gain},
              {"weight_outlier_columns", s.weight_outlier_columns},
              {"weight_outlier_scale", s.weight_outlier_scale}}}};
}

void validate(const RandomLlamaSpec& s)
{
    if (s.hidden_size <= 0 || s.intermediate_size <= 0 || s.num_layers <= 0 || s.num_heads <= 0 ||
        s.num_kv_heads <= 0 || s.vocab_size <= 0)
        throw QsError("random model: every size must be positive");
    if (s.hidden_size % s.num_heads != 0 || s.num_heads % s.num_kv_heads != 0)
        throw QsError(
            "random model: hidden_size must divide into num_heads, and num_heads into "
            "num_key_value_heads");
    if (s.dtype != DType::F32 && s.dtype != DType::F16 && s.dtype != DType::BF16)
        throw QsError("random model: dtype must be F32, F16 or BF16, not " + dtype_name(s.dtype));
    if (s.outlier_channels < 0 || s.outlier_channels > s.hidden_size ||
        s.weight_outlier_columns < 0 || s.weight_outlier_columns > s.intermediate_size)
        throw QsError("random model: outlier counts must lie in [0, the dimension]");
}

void copy_tokenizer(const std::string& from, const std::string& to)
{
    bool any = false;
    for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                             "special_tokens_map.json"}) {
        const fs::path source = fs::path(from) / name;
        if (!fs::exists(source)) continue;
        fs::copy_file(source, fs::path(to) / name, fs::copy_options::overwrite_existing);
        any = true;
    }
    if (!any) fail_file(from, "has no tokenizer.json or tokenizer.model to copy");
}

}  // namespace

RandomLlamaSpec random_llama_preset(const std::string& name)
{
    RandomLlamaSpec spec;
    if (name == "tiny") return spec;
    if (name == "llama-2-7b") {
        spec.hidden_size = 4096;
        spec.intermediate_size = 11008;
        spec.num_layers = 32;
        spec.num_heads = 32;
        spec.num_kv_heads = 32;
        spec.vocab_size = 32000;
        spec.max_position_embeddings = 4096;
        spec.dtype = DType::F16;
        return spec;
    }
    throw QsError("unknown random model preset '" + name + "' (known: tiny, llama-2-7b)");
}

void write_random_llama(const RandomLlamaSpec& spec, const std::string& dir, bool overwrite,
                        Feedback* feedback)
{
    validate(spec);
    torch::NoGradGuard no_grad;
    if (fs::exists(fs::path(dir) / "config.json") && !overwrite)
        fail_file(dir, "already holds a model (use --force to replace it)");
    PartialDirectory partial(dir);
    const std::string out = partial.path();
    if (!spec.tokenizer_from.empty()) copy_tokenizer(spec.tokenizer_from, out);
    std::ofstream(out + "/config.json") << llama_config(spec).dump(2) << "\n";

    auto generator = at::detail::createCPUGenerator(spec.seed);
    const double sd = spec.initializer_range;
    auto normal = [&](std::vector<std::int64_t> shape) {
        return at::normal(0.0, sd, shape, generator);
    };
    const std::int64_t h = spec.hidden_size, m = spec.intermediate_size;
    const std::int64_t head_dim = h / spec.num_heads, kv = head_dim * spec.num_kv_heads;
    // The planted channels: spread over the hidden dimension, the same in every layer (as the
    // massive-activation dimensions of real models are).
    std::vector<std::int64_t> outliers;
    for (int i = 0; i < spec.outlier_channels; ++i)
        outliers.push_back((7 + i * (h / std::max(1, spec.outlier_channels))) % h);
    std::vector<std::int64_t> weight_outliers;
    for (int i = 0; i < spec.weight_outlier_columns; ++i)
        weight_outliers.push_back((13 + i * (m / std::max(1, spec.weight_outlier_columns))) % m);

    ShardWriter shards(spec.dtype, out);
    const int files = spec.num_layers + 1;
    auto shard_name = [files](int index) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", index + 1, files);
        return std::string(buf);
    };
    for (int i = 0; i < spec.num_layers; ++i) {
        report(feedback, double(i) / files, "layer " + std::to_string(i));
        const std::string p = "model.layers." + std::to_string(i) + ".";
        // Gains grow with depth, so the kurtosis map shows a trend and not one uniform block.
        const double gain = 1.0 + (spec.outlier_gain - 1.0) * (i + 1) / spec.num_layers;
        auto norm = torch::ones({h});
        for (auto c : outliers)
            norm[c] = gain;
        shards.add(p + "input_layernorm.weight", norm);
        shards.add(p + "post_attention_layernorm.weight", norm);
        shards.add(p + "self_attn.q_proj.weight", normal({h, h}));
        shards.add(p + "self_attn.k_proj.weight", normal({kv, h}));
        shards.add(p + "self_attn.v_proj.weight", normal({kv, h}));
        shards.add(p + "self_attn.o_proj.weight", normal({h, h}));
        shards.add(p + "mlp.gate_proj.weight", normal({m, h}));
        shards.add(p + "mlp.up_proj.weight", normal({m, h}));
        auto down = normal({h, m});
        for (auto c : weight_outliers)
            down.select(1, c).mul_(spec.weight_outlier_scale);
        shards.add(p + "mlp.down_proj.weight", down);
        shards.flush(shard_name(i));
    }
    report(feedback, double(spec.num_layers) / files, "embeddings and head");
    shards.add("model.embed_tokens.weight", normal({spec.vocab_size, h}));
    shards.add("model.norm.weight", torch::ones({h}));
    if (!spec.tie_word_embeddings) shards.add("lm_head.weight", normal({spec.vocab_size, h}));
    shards.flush(shard_name(spec.num_layers));
    write_safetensors_index(out, shards.weight_map(), shards.total_bytes());
    partial.commit(overwrite);
    report(feedback, 1.0, "done");
}

}  // namespace qs
