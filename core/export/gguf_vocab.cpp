#include "core/export/gguf_vocab.h"

#include <fstream>
#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/tokenizer/sentencepiece_model_proto.h"
#include "core/util/error.h"

namespace qs::gguf {

namespace {

using json = nlohmann::json;

bool is_byte_token(const std::string& t)
{
    static const std::regex kByte("<0x[0-9A-Fa-f]{2}>");
    return std::regex_match(t, kByte);
}

// "a b" (tokenizers < 0.20) or ["a", "b"] -> the merged token text.
std::string merge_result(const json& m, const std::string& path)
{
    if (m.is_string()) {
        const auto s = m.get<std::string>();
        const auto space = s.find(' ');
        if (space == std::string::npos) fail_file(path, "malformed merge '" + s + "'");
        return s.substr(0, space) + s.substr(space + 1);
    }
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        return m[0].get<std::string>() + m[1].get<std::string>();
    fail_file(path, "malformed merge " + m.dump());
}

// convert_hf_to_gguf.py's padding: "[PAD<i>]" UNUSED rows up to the embedding's row count.
void pad_vocab(GgufVocab& v, std::int64_t n_vocab)
{
    for (std::int64_t i = static_cast<std::int64_t>(v.tokens.size()); i < n_vocab; ++i) {
        v.tokens.push_back("[PAD" + std::to_string(i) + "]");
        v.scores.push_back(-1000.0f);
        v.types.push_back(static_cast<std::int32_t>(TokenType::Unused));
    }
}

}  // namespace

GgufVocab read_vocab_for_gguf(const std::string& path, std::int64_t n_vocab)
{
    std::ifstream in(path);
    if (!in) fail_file(path, "cannot open");
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::exception& e) {
        fail_file(path, std::string("invalid JSON: ") + e.what());
    }
    const json& model = doc.value("model", json::object());
    const std::string type = model.value("type", "");
    if (doc.contains("pre_tokenizer") && !doc["pre_tokenizer"].is_null() &&
        doc["pre_tokenizer"].dump().find("ByteLevel") != std::string::npos)
        fail_file(path,
                  "byte-level (GPT-2 style) vocabularies are not exported to GGUF yet: "
                  "llama.cpp needs their pre-tokenizer name");

    GgufVocab v;
    std::vector<std::string> tokens;
    std::vector<float> scores;
    if (type == "Unigram") {
        for (const auto& item : model.at("vocab")) {
            tokens.push_back(item.at(0).get<std::string>());
            scores.push_back(item.at(1).get<float>());
        }
        if (model.contains("unk_id") && model["unk_id"].is_number_integer())
            v.unk_id = model["unk_id"].get<std::int64_t>();
    } else if (type == "BPE") {
        if (!model.value("byte_fallback", false))
            fail_file(path,
                      "a BPE vocabulary without byte_fallback is not SentencePiece-style; "
                      "GGUF export supports SentencePiece-style vocabularies only");
        const json& vocab = model.at("vocab");
        tokens.resize(vocab.size());
        for (const auto& [text, id] : vocab.items()) {
            const auto i = id.get<std::int64_t>();
            if (i < 0 || i >= static_cast<std::int64_t>(tokens.size()))
                fail_file(path, "token id " + std::to_string(i) + " outside the vocabulary");
            tokens[static_cast<std::size_t>(i)] = text;
        }
        std::map<std::string, std::size_t> rank;
        const json& merges = model.value("merges", json::array());
        for (std::size_t r = 0; r < merges.size(); ++r)
            rank.emplace(merge_result(merges[r], path), r);  // the first merge making it wins
        scores.assign(tokens.size(), 0.0f);
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            auto it = rank.find(tokens[i]);
            // Merge results rank by merge order; pieces no merge makes (characters, bytes,
            // specials) are never a merge target in llama.cpp, their score only fills the slot.
            scores[i] = it != rank.end() ? -static_cast<float>(it->second + 1) : 0.0f;
        }
        const std::string unk = model.value("unk_token", json()).is_string()
                                    ? model["unk_token"].get<std::string>()
                                    : "";
        if (!unk.empty() && vocab.contains(unk)) v.unk_id = vocab[unk].get<std::int64_t>();
    } else {
        fail_file(path, "tokenizer model type '" + type +
                            "' is not exported to GGUF (Unigram and SentencePiece-style BPE are)");
    }

    // Added tokens: special ones are CONTROL, the others USER_DEFINED (convert_hf_to_gguf.py).
    std::vector<int> added_kind(tokens.size(), 0);  // 0 none, 1 user-defined, 2 special
    for (const auto& added : doc.value("added_tokens", json::array())) {
        const auto id = added.at("id").get<std::int64_t>();
        if (id < 0) fail_file(path, "added token with negative id " + std::to_string(id));
        const auto idx = static_cast<std::size_t>(id);
        if (idx >= tokens.size()) {
            tokens.resize(idx + 1);
            scores.resize(idx + 1, 0.0f);
            added_kind.resize(idx + 1, 0);
        }
        tokens[idx] = added.at("content").get<std::string>();
        added_kind[idx] = added.value("special", false) ? 2 : 1;
    }
    if (static_cast<std::int64_t>(tokens.size()) > n_vocab)
        fail_file(path, std::to_string(tokens.size()) + " tokens but the model has only " +
                            std::to_string(n_vocab) + " embedding rows");

    v.tokens = std::move(tokens);
    v.scores = std::move(scores);
    v.types.resize(v.tokens.size());
    for (std::size_t i = 0; i < v.tokens.size(); ++i) {
        TokenType t = TokenType::Normal;
        if (static_cast<std::int64_t>(i) == v.unk_id)
            t = TokenType::Unknown;
        else if (added_kind[i] == 2)
            t = TokenType::Control;
        else if (added_kind[i] == 1)
            t = TokenType::UserDefined;
        else if (v.tokens[i].empty())
            t = TokenType::Unused;
        else if (is_byte_token(v.tokens[i]))
            t = TokenType::Byte;
        v.types[i] = static_cast<std::int32_t>(t);
    }
    pad_vocab(v, n_vocab);
    return v;
}

GgufVocab read_sentencepiece_vocab_for_gguf(const std::string& path, std::int64_t n_vocab)
{
    const SentencePieceModelProto proto = read_sentencepiece_proto(path);
    if (proto.model_type != 1 && proto.model_type != 2)
        fail_file(path, "SentencePiece model type " + std::to_string(proto.model_type) +
                            " (llama.cpp's SPM tokenizer takes unigram or BPE models)");
    if (static_cast<std::int64_t>(proto.pieces.size()) > n_vocab)
        fail_file(path, std::to_string(proto.pieces.size()) + " pieces but the model has only " +
                            std::to_string(n_vocab) + " embedding rows");
    GgufVocab v;
    for (const auto& p : proto.pieces) {
        v.tokens.push_back(p.piece);
        v.scores.push_back(p.score);
        v.types.push_back(static_cast<std::int32_t>(p.type));  // the same numbering
    }
    v.unk_id = proto.unk_id;
    pad_vocab(v, n_vocab);
    return v;
}

void set_vocab_metadata(GgufWriter& writer, const GgufVocab& vocab, std::int64_t bos_id,
                        std::int64_t eos_id, bool add_bos, bool add_eos)
{
    writer.set("tokenizer.ggml.model", vocab.model);
    writer.set("tokenizer.ggml.tokens", Value::strings(vocab.tokens));
    writer.set("tokenizer.ggml.scores", Value::floats(vocab.scores));
    writer.set("tokenizer.ggml.token_type", Value::int32s(vocab.types));
    if (vocab.unk_id >= 0)
        writer.set("tokenizer.ggml.unknown_token_id", static_cast<std::uint32_t>(vocab.unk_id));
    if (bos_id >= 0) writer.set("tokenizer.ggml.bos_token_id", static_cast<std::uint32_t>(bos_id));
    if (eos_id >= 0) writer.set("tokenizer.ggml.eos_token_id", static_cast<std::uint32_t>(eos_id));
    writer.set("tokenizer.ggml.add_bos_token", add_bos);
    writer.set("tokenizer.ggml.add_eos_token", add_eos);
}

}  // namespace qs::gguf
