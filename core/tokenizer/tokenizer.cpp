// Tokenizer::encode and load_tokenizer(); see tokenizer.h. BOS/EOS follow transformers: an
// explicit add_bos_token / add_eos_token in tokenizer_config.json wins (LlamaTokenizer rebuilds
// its post-processor from them); otherwise tokenizer.json's post_processor decides, and a bare
// tokenizer.model gets Llama's default (BOS, no EOS). Files are tried in the order tokenizer.json,
// tokenizer.model, vocab.json + merges.txt (GPT-2 format, as OPT ships).
#include "core/tokenizer/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/gpt2_files.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/util/error.h"

namespace qs {

namespace {

using Json = nlohmann::json;

// What tokenizer_config.json and special_tokens_map.json say about BOS/EOS.
struct SpecialConfig {
    std::optional<std::string> bos_token, eos_token;
    std::optional<bool> add_bos, add_eos;
    bool add_prefix_space = false;      // GPT-2-format files only
    std::vector<std::string> specials;  // every named special token (GPT-2-format files only)
    std::string source;                 // the file that named the tokens, for error messages
};

std::optional<Json> read_json_file(const std::string& path)
{
    if (!std::filesystem::is_regular_file(path)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_file(path, "cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    try {
        Json doc = Json::parse(text.str());
        if (!doc.is_object()) fail_file(path, "not a JSON object");
        return doc;
    } catch (const Json::exception& e) {
        fail_file(path, std::string("not valid JSON: ") + e.what());
    }
}

// A special token is written either as "<s>" or as {"content": "<s>", ...}.
std::optional<std::string> token_content(const Json& doc, const char* key)
{
    if (!doc.contains(key)) return std::nullopt;
    const Json& v = doc[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
    return std::nullopt;
}

std::optional<bool> optional_bool(const Json& doc, const char* key)
{
    if (!doc.contains(key) || !doc[key].is_boolean()) return std::nullopt;
    return doc[key].get<bool>();
}

SpecialConfig read_special_config(const std::string& dir)
{
    SpecialConfig cfg;
    const std::string config_path = dir + "/tokenizer_config.json";
    if (const auto doc = read_json_file(config_path)) {
        cfg.bos_token = token_content(*doc, "bos_token");
        cfg.eos_token = token_content(*doc, "eos_token");
        cfg.add_bos = optional_bool(*doc, "add_bos_token");
        cfg.add_eos = optional_bool(*doc, "add_eos_token");
        cfg.add_prefix_space = optional_bool(*doc, "add_prefix_space").value_or(false);
        for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"})
            if (auto t = token_content(*doc, key)) cfg.specials.push_back(*t);
        cfg.source = config_path;
    }
    const std::string map_path = dir + "/special_tokens_map.json";
    if (!cfg.bos_token || !cfg.eos_token) {
        if (const auto doc = read_json_file(map_path)) {
            if (!cfg.bos_token) cfg.bos_token = token_content(*doc, "bos_token");
            if (!cfg.eos_token) cfg.eos_token = token_content(*doc, "eos_token");
            for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"})
                if (auto t = token_content(*doc, key)) cfg.specials.push_back(*t);
            if (cfg.source.empty()) cfg.source = map_path;
        }
    }
    return cfg;
}

template <typename Tok>
std::optional<std::int32_t> lookup(const Tok& tok, const std::optional<std::string>& token)
{
    return token ? tok.token_to_id(*token) : std::nullopt;
}

// The id to add, failing when the config asks for a token the vocabulary lacks.
std::int32_t resolve(bool add, std::optional<std::int32_t> id,
                     const std::optional<std::string>& name, const SpecialConfig& cfg,
                     const char* what)
{
    if (id) return *id;
    if (add && name)
        fail_file(cfg.source, std::string(what) + " '" + *name + "' is not in the vocabulary");
    if (add)
        fail_file(cfg.source.empty() ? std::string("tokenizer") : cfg.source,
                  std::string("add_") + what + " is set but no " + what + " is named");
    return -1;
}

}  // namespace

std::vector<std::int32_t> Tokenizer::encode(const std::string& text) const
{
    std::vector<std::int32_t> ids = encode_raw(text);
    if (m_add_bos && m_bos_id >= 0) ids.insert(ids.begin(), m_bos_id);
    if (m_add_eos && m_eos_id >= 0) ids.push_back(m_eos_id);
    return ids;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir)
{
    const std::string json_path = dir + "/tokenizer.json";
    const std::string model_path = dir + "/tokenizer.model";
    const bool has_json = std::filesystem::is_regular_file(json_path);
    const std::string vocab_path = dir + "/vocab.json";
    const std::string merges_path = dir + "/merges.txt";
    const bool has_model = std::filesystem::is_regular_file(model_path);
    // OPT ships only GPT-2-format files; they are converted as transformers would.
    const bool has_gpt2 = std::filesystem::is_regular_file(vocab_path) &&
                          std::filesystem::is_regular_file(merges_path);
    if (!has_json && !has_model && !has_gpt2)
        fail_file(dir, "no tokenizer.json or tokenizer.model");
    const SpecialConfig cfg = read_special_config(dir);

    if (has_json || !has_model) {
        auto tok = has_json ? BpeTokenizer::from_file(json_path)
                            : BpeTokenizer::from_json(
                                  gpt2_files_to_tokenizer_json(vocab_path, merges_path,
                                                               cfg.add_prefix_space, cfg.specials),
                                  vocab_path);
        const SpecialTokenTemplate& tmpl = tok->special_template();
        const std::optional<std::int32_t> template_bos =
            tmpl.prefix.empty() ? std::nullopt : std::optional(tmpl.prefix.front());
        const std::optional<std::int32_t> template_eos =
            tmpl.suffix.empty() ? std::nullopt : std::optional(tmpl.suffix.back());
        const auto config_bos = lookup(*tok, cfg.bos_token);
        const auto config_eos = lookup(*tok, cfg.eos_token);
        // An explicit flag uses the configured token; a derived one the template's own.
        const bool add_bos = cfg.add_bos.value_or(template_bos.has_value());
        const bool add_eos = cfg.add_eos.value_or(template_eos.has_value());
        const auto bos = cfg.add_bos ? (config_bos ? config_bos : template_bos)
                                     : (template_bos ? template_bos : config_bos);
        const auto eos = cfg.add_eos ? (config_eos ? config_eos : template_eos)
                                     : (template_eos ? template_eos : config_eos);
        tok->set_special(resolve(add_bos, bos, cfg.bos_token, cfg, "bos_token"),
                         resolve(add_eos, eos, cfg.eos_token, cfg, "eos_token"), add_bos, add_eos);
        return tok;
    }

    auto tok = std::make_unique<SentencePieceTokenizer>(model_path);
    const bool add_bos = cfg.add_bos.value_or(true);
    const bool add_eos = cfg.add_eos.value_or(false);
    auto bos = lookup(*tok, cfg.bos_token);
    auto eos = lookup(*tok, cfg.eos_token);
    if (!cfg.bos_token && tok->model_bos_id() >= 0) bos = tok->model_bos_id();
    if (!cfg.eos_token && tok->model_eos_id() >= 0) eos = tok->model_eos_id();
    tok->set_special(resolve(add_bos, bos, cfg.bos_token, cfg, "bos_token"),
                     resolve(add_eos, eos, cfg.eos_token, cfg, "eos_token"), add_bos, add_eos);
    return tok;
}

}  // namespace qs
