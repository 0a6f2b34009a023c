#include "core/export/gguf_llama.h"

#include <filesystem>
#include <regex>

#include "core/export/gguf_blocks.h"
#include "core/export/gguf_grid_blocks.h"
#include "core/export/gguf_vocab.h"
#include "core/io/tensor_torch.h"
#include "core/model/causal_lm.h"
#include "core/model/checkpoint_names.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs::gguf {

namespace {

// llama_ftype of a file whose 2-D weights are mostly `type` (general.file_type).
std::uint32_t llama_file_type(TensorType type)
{
    switch (type) {
        case TensorType::F32:
            return 0;
        case TensorType::F16:
            return 1;
        case TensorType::Q4_0:
            return 2;
        case TensorType::Q8_0:
            return 7;
        case TensorType::MXFP4:
            return 38;  // LLAMA_FTYPE_MOSTLY_MXFP4_MOE
        default:
            throw QsError(std::string("GGUF export cannot write ") + tensor_type_name(type));
    }
}

void check_writable(TensorType type, const char* what)
{
    if (!tensor_type_traits(type).writable)
        throw QsError(std::string("GGUF export: ") + what + " " + tensor_type_name(type) +
                      " can be read but not written (use F32, F16, Q8_0, Q4_0 or MXFP4)");
}

}  // namespace

std::string llama_gguf_tensor_name(const std::string& hf_name)
{
    static const std::pair<const char*, const char*> kTop[] = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"},
    };
    for (const auto& [hf, gg] : kTop)
        if (hf_name == hf) return gg;
    static const std::regex kLayer(R"(model\.layers\.(\d+)\.(.+)\.(weight|bias))");
    static const std::pair<const char*, const char*> kInLayer[] = {
        {"input_layernorm", "attn_norm"},    {"self_attn.q_proj", "attn_q"},
        {"self_attn.k_proj", "attn_k"},      {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"}, {"post_attention_layernorm", "ffn_norm"},
        {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},
    };
    std::smatch m;
    if (!std::regex_match(hf_name, m, kLayer)) return "";
    for (const auto& [hf, gg] : kInLayer)
        if (m[2] == hf) return "blk." + m[1].str() + "." + gg + "." + m[3].str();
    return "";
}

torch::Tensor permute_qk_for_gguf(const torch::Tensor& w, std::int64_t n_head)
{
    const std::int64_t rows = w.size(0);
    if (n_head <= 0 || rows % (2 * n_head) != 0)
        throw QsError("GGUF export: " + std::to_string(rows) + " rows do not split into " +
                      std::to_string(n_head) + " heads of rotary pairs");
    auto shape = w.sizes().vec();
    std::vector<std::int64_t> split = {n_head, 2, rows / n_head / 2};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    return w.reshape(split).transpose(1, 2).reshape(shape).contiguous();
}

GgufWriter llama_gguf_writer(const CausalLM& model, const GgufLlamaOptions& options,
                             GgufLlamaReport* report, Feedback* feedback)
{
    const ModelConfig& c = model.config();
    const std::string& dir = model.directory();
    if (c.arch != Architecture::Llama || (c.model_type != "llama" && c.model_type != "mistral"))
        fail_file(dir, "GGUF export supports llama and mistral models, not '" + c.model_type + "'");
    if (c.attention_bias || c.o_proj_bias || c.mlp_bias)
        fail_file(dir, "GGUF export of Llama models with biases is not supported");
    if (c.rope_scaling.type != "" && c.rope_scaling.type != "linear")
        fail_file(dir,
                  "GGUF export of '" + c.rope_scaling.type + "' RoPE scaling is not supported");
    if (c.hidden_act != "silu") fail_file(dir, "GGUF llama expects SiLU, not " + c.hidden_act);
    check_writable(options.weight_type, "weight type");
    check_writable(options.fallback_type, "fallback type");
    if (tensor_type_traits(options.fallback_type).block_size != 1)
        throw QsError("GGUF export: the fallback type must be F32 or F16");

    GgufWriter w;
    auto u32 = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
    w.set("general.architecture", "llama");
    w.set("general.name", std::filesystem::path(dir).filename().string());
    w.set("general.file_type", llama_file_type(options.weight_type));
    w.set("general.quantization_version", std::uint32_t{2});
    w.set("llama.vocab_size", u32(c.vocab_size));
    w.set("llama.context_length", u32(c.max_position_embeddings));
    w.set("llama.embedding_length", u32(c.hidden_size));
    w.set("llama.block_count", u32(c.num_layers));
    w.set("llama.feed_forward_length", u32(c.intermediate_size));
    w.set("llama.attention.head_count", u32(c.num_heads));
    w.set("llama.attention.head_count_kv", u32(c.num_kv_heads));
    w.set("llama.rope.dimension_count", u32(c.head_dim));
    w.set("llama.rope.freq_base", static_cast<float>(c.rope_theta));
    w.set("llama.attention.layer_norm_rms_epsilon", static_cast<float>(c.norm_eps));
    if (c.head_dim * c.num_heads != c.hidden_size) {
        w.set("llama.attention.key_length", u32(c.head_dim));
        w.set("llama.attention.value_length", u32(c.head_dim));
    }
    if (c.rope_scaling.type == "linear") {
        w.set("llama.rope.scaling.type", "linear");
        w.set("llama.rope.scaling.factor", static_cast<float>(c.rope_scaling.factor));
    }

    const TensorStore& store = model.store();
    const CheckpointNames names = checkpoint_names(c, store);
    const std::string tokenizer_json = dir + "/tokenizer.json";
    const std::string tokenizer_model = dir + "/tokenizer.model";
    const std::int64_t n_vocab = store.info(names.embed_tokens).shape.at(0);
    GgufVocab vocab;
    if (std::filesystem::exists(tokenizer_json))
        vocab = read_vocab_for_gguf(tokenizer_json, n_vocab);
    else if (std::filesystem::exists(tokenizer_model))
        vocab = read_sentencepiece_vocab_for_gguf(tokenizer_model, n_vocab);
    else
        fail_file(dir, "GGUF export needs the tokenizer: no tokenizer.json or tokenizer.model");
    const Tokenizer& tok = model.tokenizer();
    set_vocab_metadata(w, vocab, c.bos_token_id >= 0 ? c.bos_token_id : tok.bos_id(),
                       c.eos_token_id >= 0 ? c.eos_token_id : tok.eos_id(), tok.adds_bos(),
                       tok.adds_eos());

    // Tensors in llama.cpp's order. A tied output projection the checkpoint does not store is
    // not written (llama.cpp reuses token_embd when output.weight is absent); a stored one is,
    // as it may differ from the embedding (a quantized head).
    std::vector<std::string> hf_names = {names.embed_tokens};
    for (int i = 0; i < model.num_layers(); ++i) {
        const std::string p = names.layer_prefix(i);
        hf_names.push_back(p + names.attn_norm + ".weight");
        for (const auto& lin : names.linears)
            hf_names.push_back(p + lin + ".weight");
        hf_names.push_back(p + names.mlp_norm + ".weight");
    }
    hf_names.push_back(names.final_norm + ".weight");
    if (names.lm_head != names.embed_tokens) hf_names.push_back(names.lm_head);

    const std::size_t total = hf_names.size();
    for (std::size_t k = 0; k < total; ++k) {
        const std::string& hf = hf_names[k];
        const std::string gg = llama_gguf_tensor_name(hf);
        if (gg.empty()) fail_file(store.location(), "no GGUF name for tensor '" + hf + "'");
        const auto& shape = store.info(hf).shape;
        std::vector<std::uint64_t> dims(shape.rbegin(), shape.rend());  // ggml: innermost first
        TensorType type = TensorType::F32;
        if (shape.size() == 2) {
            type = options.weight_type;
            if (options.keep_f16 && options.keep_f16(hf))
                type = TensorType::F16;
            else if (dims[0] % static_cast<std::uint64_t>(tensor_type_traits(type).block_size) !=
                     0) {
                type = options.fallback_type;
                if (report) report->fallback_tensors.push_back(gg);
            }
        }
        std::int64_t permute_heads = 0;
        if (hf.ends_with("self_attn.q_proj.weight")) permute_heads = c.num_heads;
        if (hf.ends_with("self_attn.k_proj.weight")) permute_heads = c.num_kv_heads;
        w.add_tensor(
            gg, dims, type,
            [&model, block_scales = options.block_scales, hf, gg, type, permute_heads, k, total,
             feedback] {
                if (feedback) {
                    feedback->check_cancelled();
                    feedback->set_progress(static_cast<double>(k) / static_cast<double>(total),
                                           "writing " + gg);
                }
                torch::Tensor t = load_tensor(model.store(), hf).contiguous();
                model.store().release(hf);
                if (permute_heads > 0) t = permute_qk_for_gguf(t, permute_heads);
                torch::Tensor scales;
                if (block_scales && (type == TensorType::Q8_0 || type == TensorType::Q4_0))
                    scales = block_scales(hf);
                if (scales.defined()) {
                    if (permute_heads > 0) scales = permute_qk_for_gguf(scales, permute_heads);
                    scales = scales.to(torch::kFloat32).contiguous();
                    if (scales.numel() * 32 != t.numel())
                        throw QsError("GGUF export: " + hf + " has " +
                                      std::to_string(scales.numel()) + " block scales for " +
                                      std::to_string(t.numel()) + " values");
                    std::vector<std::uint8_t> out(*tensor_bytes(type, std::size_t(t.numel())));
                    encode_blocks_on_grid(type, t.data_ptr<float>(), scales.data_ptr<float>(),
                                          std::size_t(t.numel()), out.data());
                    return out;
                }
                return quantize_blocks(type,
                                       std::span<const float>(t.data_ptr<float>(),
                                                              static_cast<std::size_t>(t.numel())));
            });
    }
    return w;
}

void write_llama_gguf(const CausalLM& model, const std::string& path,
                      const GgufLlamaOptions& options, Feedback* feedback, GgufLlamaReport* report)
{
    const GgufWriter w = llama_gguf_writer(model, options, report, feedback);
    try {
        w.write(path);
    } catch (const QsError&) {
        // The atomic writer turns any exception into a QsError naming the file; a cancel is
        // still a cancel for the caller.
        if (feedback && feedback->is_cancelled()) throw CancelledError();
        throw;
    }
    if (feedback) feedback->set_progress(1.0, "written " + path);
}

}  // namespace qs::gguf
