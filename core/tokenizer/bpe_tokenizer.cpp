// BPE tokenizer pipeline and tokenizer.json parsing; see bpe_tokenizer.h. The pipeline order is
// HF's AddedVocabulary::extract_and_normalize followed by pre-tokenization and the model.
#include "core/tokenizer/bpe_tokenizer.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/decoder.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

namespace {

using Json = nlohmann::json;

std::optional<std::string> optional_string(const Json& spec, const char* key,
                                           const std::string& file)
{
    if (!spec.contains(key) || spec[key].is_null()) return std::nullopt;
    if (!spec[key].is_string()) fail_file(file, std::string("model.") + key + " must be a string");
    return spec[key].get<std::string>();
}

std::vector<std::pair<std::string, std::string>> parse_merges(const Json& merges,
                                                              const std::string& file)
{
    if (!merges.is_array()) fail_file(file, "model.merges must be a list");
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(merges.size());
    for (std::size_t i = 0; i < merges.size(); ++i) {
        const Json& m = merges[i];
        if (m.is_string()) {
            // Older files: "left right", split at the first space (HF's splitn(2, ' ')).
            const std::string s = m.get<std::string>();
            const std::size_t space = s.find(' ');
            if (space == std::string::npos)
                fail_file(file, "merges entry " + std::to_string(i) + " is not \"left right\"");
            out.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
            fail_file(file, "merges entry " + std::to_string(i) + " is neither \"a b\" nor [a, b]");
        }
    }
    return out;
}

std::unique_ptr<BpeModel> parse_model(const Json& model, const std::string& file)
{
    if (!model.is_object()) fail_file(file, "no 'model' object");
    // Some writers leave out "type" for BPE; vocab + merges identify it.
    const std::string type =
        model.value("type", std::string(model.contains("merges") ? "BPE" : ""));
    if (type != "BPE") fail_file(file, "unsupported model type '" + type + "'");
    if (!model.contains("vocab") || !model["vocab"].is_object())
        fail_file(file, "model.vocab must be an object");
    std::unordered_map<std::string, std::int32_t> vocab;
    vocab.reserve(model["vocab"].size());
    for (const auto& [token, id] : model["vocab"].items()) {
        if (!id.is_number_integer())
            fail_file(file, "vocab entry '" + token + "' has no integer id");
        vocab.emplace(token, id.get<std::int32_t>());
    }
    BpeOptions options;
    options.unk_token = optional_string(model, "unk_token", file);
    options.byte_fallback = model.value("byte_fallback", false);
    options.fuse_unk = model.value("fuse_unk", false);
    options.ignore_merges = model.value("ignore_merges", false);
    options.continuing_subword_prefix =
        optional_string(model, "continuing_subword_prefix", file).value_or("");
    options.end_of_word_suffix = optional_string(model, "end_of_word_suffix", file).value_or("");
    if (model.contains("dropout") && !model["dropout"].is_null() &&
        model["dropout"].get<double>() > 0.0)
        fail_file(file, "BPE dropout is not supported (it makes tokenization random)");
    return std::make_unique<BpeModel>(std::move(vocab),
                                      parse_merges(model.value("merges", Json::array()), file),
                                      std::move(options), file);
}

std::vector<AddedToken> parse_added_tokens(const Json& list, const std::string& file)
{
    std::vector<AddedToken> tokens;
    if (list.is_null()) return tokens;
    if (!list.is_array()) fail_file(file, "added_tokens must be a list");
    for (const Json& t : list) {
        if (!t.is_object() || !t.contains("id") || !t.contains("content") ||
            !t["content"].is_string())
            fail_file(file, "added_tokens entry without id and content");
        AddedToken token;
        token.id = t["id"].get<std::int32_t>();
        token.content = t["content"].get<std::string>();
        token.special = t.value("special", false);
        token.lstrip = t.value("lstrip", false);
        token.rstrip = t.value("rstrip", false);
        token.single_word = t.value("single_word", false);
        token.normalized = t.value("normalized", !token.special);
        tokens.push_back(std::move(token));
    }
    return tokens;
}

}  // namespace

BpeTokenizer::BpeTokenizer() = default;
BpeTokenizer::~BpeTokenizer() = default;

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_file(path, "cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    return from_json(text.str(), path);
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_json(const std::string& json_text,
                                                      const std::string& source)
{
    Json doc;
    try {
        doc = Json::parse(json_text);
    } catch (const Json::exception& e) {
        fail_file(source, std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object()) fail_file(source, "not a tokenizer.json object");
    std::unique_ptr<BpeTokenizer> tok(new BpeTokenizer());
    try {
        tok->m_model = parse_model(doc.value("model", Json()), source);
        tok->m_normalizer = parse_normalizer(doc.value("normalizer", Json()), source);
        tok->m_pre_tokenizer = parse_pre_tokenizer(doc.value("pre_tokenizer", Json()), source);
        tok->m_decoder = parse_decoder(doc.value("decoder", Json()), source);
        for (AddedToken& token : parse_added_tokens(doc.value("added_tokens", Json()), source)) {
            if (token.normalized) {
                // HF matches normalized tokens in normalized text, by their normalized content.
                std::string pattern = token.content;
                if (tok->m_normalizer) tok->m_normalizer->normalize(pattern);
                tok->m_normalized_added.add(pattern, token);
            } else {
                tok->m_raw_added.add(token.content, token);
            }
            tok->m_added_by_content[token.content] = token.id;
            tok->m_added_by_id[token.id] = std::move(token);
        }
        const BpeTokenizer* self = tok.get();
        tok->m_template = parse_post_processor(
            doc.value("post_processor", Json()),
            [self](const std::string& t) { return self->token_to_id(t); }, source);
    } catch (const Json::exception& e) {
        // A field of the wrong JSON type deep inside a component.
        fail_file(source, std::string("malformed tokenizer.json: ") + e.what());
    } catch (const QsError& e) {
        const std::string message = e.what();
        if (message.starts_with(source + ": ")) throw;
        fail_file(source, message);
    }
    return tok;
}

void BpeTokenizer::encode_piece(std::string piece, bool at_start,
                                std::vector<std::int32_t>& ids) const
{
    if (m_normalizer) m_normalizer->normalize(piece);
    std::vector<AddedTokenSplit> splits;
    if (m_normalized_added.empty()) {
        if (!piece.empty()) splits.push_back({0, piece.size(), -1});
    } else {
        splits = m_normalized_added.split(piece);
    }
    std::vector<PreToken> words;
    for (const AddedTokenSplit& s : splits) {
        if (s.id >= 0) {
            ids.push_back(s.id);
            continue;
        }
        words.assign(1, PreToken{piece.substr(s.begin, s.end - s.begin), at_start && s.begin == 0});
        if (m_pre_tokenizer) m_pre_tokenizer->pre_tokenize(words);
        for (const PreToken& w : words)
            m_model->tokenize(w.text, ids);
    }
}

std::vector<std::int32_t> BpeTokenizer::encode_raw(const std::string& text) const
{
    utf8_validate(text);
    std::vector<std::int32_t> ids;
    if (m_raw_added.empty()) {
        if (!text.empty()) encode_piece(text, true, ids);
        return ids;
    }
    for (const AddedTokenSplit& s : m_raw_added.split(text)) {
        if (s.id >= 0)
            ids.push_back(s.id);
        else
            encode_piece(text.substr(s.begin, s.end - s.begin), s.begin == 0, ids);
    }
    return ids;
}

std::string BpeTokenizer::decode(const std::vector<std::int32_t>& ids, bool skip_special) const
{
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const std::int32_t id : ids) {
        if (const auto it = m_added_by_id.find(id); it != m_added_by_id.end()) {
            if (!(skip_special && it->second.special)) tokens.push_back(it->second.content);
        } else if (const std::string* token = m_model->id_to_token(id)) {
            tokens.push_back(*token);
        }
        // HF drops ids that have no token.
    }
    return decode_tokens(m_decoder.get(), std::move(tokens));
}

std::int64_t BpeTokenizer::vocab_size() const
{
    std::int64_t size = m_model->size();
    for (const auto& [id, token] : m_added_by_id)
        size = std::max<std::int64_t>(size, id + 1);
    return size;
}

std::optional<std::int32_t> BpeTokenizer::token_to_id(const std::string& token) const
{
    if (const auto it = m_added_by_content.find(token); it != m_added_by_content.end())
        return it->second;
    return m_model->token_to_id(token);
}

std::string BpeTokenizer::id_to_token(std::int32_t id) const
{
    if (const auto it = m_added_by_id.find(id); it != m_added_by_id.end())
        return it->second.content;
    const std::string* token = m_model->id_to_token(id);
    return token ? *token : std::string();
}

bool BpeTokenizer::is_special(std::int32_t id) const
{
    const auto it = m_added_by_id.find(id);
    return it != m_added_by_id.end() && it->second.special;
}

}  // namespace qs
