#include "core/export/import_gguf.h"

#include <filesystem>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/export/gguf_reader.h"
#include "core/export/import_gguf_tokenizer.h"
#include "core/export/import_tensor_writer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

// Hugging Face name of a llama.cpp tensor (llama.cpp's LLM_TENSOR_NAMES for LLM_ARCH_LLAMA and
// gguf-py's tensor_mapping.py, read backwards); nullopt for a name with no counterpart.
std::optional<std::string> hf_name(const std::string& name)
{
    static const std::map<std::string, std::string> global = {
        {"token_embd.weight", "model.embed_tokens.weight"},
        {"output_norm.weight", "model.norm.weight"},
        {"output.weight", "lm_head.weight"}};
    static const std::map<std::string, std::string> layer = {
        {"attn_norm", "input_layernorm"},    {"attn_q", "self_attn.q_proj"},
        {"attn_k", "self_attn.k_proj"},      {"attn_v", "self_attn.v_proj"},
        {"attn_output", "self_attn.o_proj"}, {"ffn_norm", "post_attention_layernorm"},
        {"ffn_gate", "mlp.gate_proj"},       {"ffn_up", "mlp.up_proj"},
        {"ffn_down", "mlp.down_proj"}};
    if (auto it = global.find(name); it != global.end()) return it->second;
    // blk.<N>.<module>.<weight|bias>
    if (name.rfind("blk.", 0) != 0) return std::nullopt;
    const auto dot1 = name.find('.', 4);
    const auto dot2 = name.rfind('.');
    if (dot1 == std::string::npos || dot2 <= dot1) return std::nullopt;
    const std::string index = name.substr(4, dot1 - 4);
    if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const std::string module = name.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string kind = name.substr(dot2 + 1);
    const auto it = layer.find(module);
    if (it == layer.end() || (kind != "weight" && kind != "bias")) return std::nullopt;
    return "model.layers." + index + "." + it->second + "." + kind;
}

// Undoes convert_hf_to_gguf.py's LlamaModel.permute(w, n_head, n_head_kv), which reorders the
// rows of q_proj / k_proj (and their biases) from Hugging Face's rotate-half RoPE layout into
// the interleaved pairs of the original Meta checkpoints:
//   w.reshape(n_head, 2, rows / n_head / 2, ...).swapaxes(1, 2).reshape(w.shape)
// whose inverse is reshape(n_head, rows / n_head / 2, 2, ...).swapaxes(1, 2).
torch::Tensor unpermute(const torch::Tensor& w, std::int64_t heads)
{
    const auto shape = w.sizes().vec();
    std::vector<std::int64_t> split = {heads, shape[0] / heads / 2, 2};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    return w.reshape(split).transpose(1, 2).reshape(shape).contiguous();
}

class MetadataReader {
public:
    MetadataReader(const gguf::GgufReader& reader, std::string arch)
        : m_reader(reader), m_arch(std::move(arch))
    {
    }
    std::int64_t integer(const std::string& key) const { return get(key).as_int(); }
    std::optional<double> real(const std::string& key) const
    {
        const auto* v = m_reader.find(m_arch + "." + key);
        return v ? std::optional<double>(v->as_double()) : std::nullopt;
    }
    std::optional<std::int64_t> optional_integer(const std::string& key) const
    {
        const auto* v = m_reader.find(m_arch + "." + key);
        return v ? std::optional<std::int64_t>(v->as_int()) : std::nullopt;
    }

private:
    const gguf::Value& get(const std::string& key) const
    {
        return m_reader.get(m_arch + "." + key);
    }
    const gguf::GgufReader& m_reader;
    std::string m_arch;
};

nlohmann::json build_config(const gguf::GgufReader& reader, const std::string& arch,
                            std::int64_t vocab, bool tied, DType dtype)
{
    const MetadataReader m(reader, arch);
    const std::int64_t hidden = m.integer("embedding_length");
    const std::int64_t heads = m.integer("attention.head_count");
    nlohmann::json c;
    c["architectures"] = {arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
    c["model_type"] = arch;
    c["hidden_size"] = hidden;
    c["intermediate_size"] = m.integer("feed_forward_length");
    c["num_hidden_layers"] = m.integer("block_count");
    c["num_attention_heads"] = heads;
    c["num_key_value_heads"] = m.optional_integer("attention.head_count_kv").value_or(heads);
    if (auto key_length = m.optional_integer("attention.key_length");
        key_length && *key_length != hidden / heads)
        c["head_dim"] = *key_length;
    c["vocab_size"] = vocab;
    c["max_position_embeddings"] = m.optional_integer("context_length").value_or(2048);
    c["rms_norm_eps"] = m.real("attention.layer_norm_rms_epsilon").value_or(1e-5);
    c["rope_theta"] = m.real("rope.freq_base").value_or(10000.0);
    c["hidden_act"] = "silu";
    c["tie_word_embeddings"] = tied;
    c["torch_dtype"] = dtype == DType::F16 ? "float16" : "float32";
    if (const auto* type = reader.find(arch + ".rope.scaling.type")) {
        const std::string scaling = type->as_string();
        if (scaling == "linear")
            c["rope_scaling"] = {{"rope_type", "linear"},
                                 {"factor", m.real("rope.scaling.factor").value_or(1.0)}};
        else if (scaling != "none")
            fail_file(reader.path(), "rope scaling '" + scaling + "' is not supported");
    }
    for (const char* token : {"bos", "eos"})
        if (const auto* id = reader.find(std::string("tokenizer.ggml.") + token + "_token_id"))
            c[std::string(token) + "_token_id"] = id->as_int();
    return c;
}

}  // namespace

ImportSummary import_gguf(const std::string& path, const std::string& out_dir, DType dtype,
                          Feedback* feedback)
{
    const gguf::GgufReader reader(path);
    const std::string arch = reader.get("general.architecture").as_string();
    if (arch != "llama" && arch != "qwen2")
        fail_file(path, "architecture '" + arch + "' is not supported (llama, qwen2)");
    const std::int64_t heads = reader.get(arch + ".attention.head_count").as_int();
    const auto* kv = reader.find(arch + ".attention.head_count_kv");
    const std::int64_t kv_heads = kv ? kv->as_int() : heads;

    ImportSummary summary;
    summary.source_format = "gguf";
    ImportTensorWriter writer(out_dir, dtype);
    std::map<std::string, std::size_t> type_counts;
    std::int64_t vocab = 0;
    bool has_output = false;
    const auto& tensors = reader.tensors();
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& info = tensors[i];
        report(feedback, double(i) / double(tensors.size()), "importing " + info.name);
        if (info.name == "rope_freqs.weight")
            fail_file(path, "tensor 'rope_freqs.weight' (Llama 3 rope scaling) is not supported");
        const auto name = hf_name(info.name);
        if (!name) fail_file(path, "tensor '" + info.name + "' has no Hugging Face counterpart");
        std::vector<std::int64_t> shape(info.dims.rbegin(), info.dims.rend());
        std::vector<float> values = reader.dequantize(info);
        auto t = torch::from_blob(values.data(), shape, torch::kFloat32);
        if (arch == "llama") {
            // Only Llama's converter permutes; the rows must split into whole heads of pairs.
            const bool is_q = name->find(".self_attn.q_proj.") != std::string::npos;
            const bool is_k = name->find(".self_attn.k_proj.") != std::string::npos;
            if (is_q || is_k) {
                const std::int64_t n = is_q ? heads : kv_heads;
                if (n <= 0 || shape[0] % (2 * n) != 0)
                    fail_file(path, "tensor '" + info.name + "' has " + std::to_string(shape[0]) +
                                        " rows, not a whole number of " + std::to_string(n) +
                                        " heads");
                t = unpermute(t, n);
            }
        }
        writer.add(*name, t);
        ++type_counts[gguf::tensor_type_name(info.type)];
        if (info.type != gguf::TensorType::F32 && info.type != gguf::TensorType::F16)
            ++summary.dequantized_tensors;
        if (info.name == "token_embd.weight") vocab = shape[0];
        if (info.name == "output.weight") has_output = true;
    }
    if (vocab == 0) fail_file(path, "missing tensor 'token_embd.weight'");
    summary.tensors = writer.finish();

    nlohmann::json config = build_config(reader, arch, vocab, !has_output, dtype);
    nlohmann::json types = nlohmann::json::object();
    for (const auto& [type, count] : type_counts)
        types[type] = count;
    config["quantscope_imported_from"] = {
        {"path", fs::absolute(path).string()}, {"format", "gguf"}, {"tensor_types", types}};
    if (const auto* file_type = reader.find("general.file_type"))
        config["quantscope_imported_from"]["file_type"] = file_type->as_int();
    write_file_atomically((fs::path(out_dir) / "config.json").string(),
                          [&](std::ostream& out) { out << config.dump(2) << "\n"; });

    std::string note = "dequantized a " + arch + " GGUF (";
    bool first = true;
    for (const auto& [type, count] : type_counts) {
        note += (first ? "" : ", ") + std::to_string(count) + " " + type;
        first = false;
    }
    summary.notes.push_back(note + ")");
    std::string why_not;
    summary.has_tokenizer = gguf::write_gguf_tokenizer(reader, out_dir, &why_not);
    summary.notes.push_back(summary.has_tokenizer
                                ? "tokenizer.json rebuilt from the tokenizer.ggml vocabulary"
                                : "no tokenizer: " + why_not +
                                      "; open the folder without a tokenizer");
    return summary;
}

}  // namespace qs
