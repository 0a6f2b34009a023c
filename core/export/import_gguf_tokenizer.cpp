#include "core/export/import_gguf_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/export/gguf_reader.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace qs::gguf {
namespace {

// llama_token_type values (llama.cpp's llama_vocab): 1 normal, 2 unknown, 3 control,
// 4 user-defined, 5 unused, 6 byte.
constexpr std::int64_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4;

struct Vocab {
    std::vector<std::string> tokens;
    std::vector<double> scores;
    std::vector<std::int64_t> types;
};

Vocab read_vocab(const GgufReader& reader)
{
    Vocab v;
    const Value& tokens = reader.get("tokenizer.ggml.tokens");
    for (const auto& t : tokens.array)
        v.tokens.push_back(std::get<std::string>(t));
    const std::size_t n = v.tokens.size();
    v.scores.assign(n, 0.0);
    v.types.assign(n, kNormal);
    if (const Value* scores = reader.find("tokenizer.ggml.scores")) {
        if (scores->array.size() != n)
            fail_file(reader.path(), "tokenizer.ggml.scores has " +
                                         std::to_string(scores->array.size()) + " entries for " +
                                         std::to_string(n) + " tokens");
        for (std::size_t i = 0; i < n; ++i)
            v.scores[i] = Value(scores->array[i]).as_double();
    }
    if (const Value* types = reader.find("tokenizer.ggml.token_type")) {
        if (types->array.size() != n)
            fail_file(reader.path(), "tokenizer.ggml.token_type has " +
                                         std::to_string(types->array.size()) + " entries for " +
                                         std::to_string(n) + " tokens");
        for (std::size_t i = 0; i < n; ++i)
            v.types[i] = Value(types->array[i]).as_int();
    }
    return v;
}

std::optional<std::int64_t> token_id(const GgufReader& reader, const std::string& key,
                                     std::size_t n_tokens)
{
    const Value* v = reader.find(key);
    if (!v) return std::nullopt;
    const std::int64_t id = v->as_int();
    if (id < 0 || id >= static_cast<std::int64_t>(n_tokens))
        fail_file(reader.path(), key + " " + std::to_string(id) + " is outside the vocabulary");
    return id;
}

bool flag(const GgufReader& reader, const std::string& key, bool fallback)
{
    const Value* v = reader.find(key);
    return v ? v->as_bool() : fallback;
}

// transformers' SentencePieceExtractor.extract(vocab_scores): for every piece, each split into
// two pieces of the vocabulary (at code point boundaries) is a merge; merges are ordered by the
// piece's score, highest first, ties kept in piece-id order, splits by (left id, right id).
json rebuild_merges(const Vocab& v)
{
    std::unordered_map<std::string, std::int64_t> ids;
    for (std::size_t i = 0; i < v.tokens.size(); ++i)
        ids.emplace(v.tokens[i], static_cast<std::int64_t>(i));
    struct Merge {
        double score;
        std::int64_t piece, left, right;
    };
    std::vector<Merge> merges;
    for (std::size_t i = 0; i < v.tokens.size(); ++i) {
        // Control, byte, unknown and unused rows are never built by merging.
        if (v.types[i] != kNormal) continue;
        const std::string& piece = v.tokens[i];
        for (std::size_t cut = 1; cut < piece.size(); ++cut) {
            if ((static_cast<unsigned char>(piece[cut]) & 0xC0) == 0x80)
                continue;  // mid code point
            const auto l = ids.find(piece.substr(0, cut));
            const auto r = ids.find(piece.substr(cut));
            if (l != ids.end() && r != ids.end())
                merges.push_back({v.scores[i], static_cast<std::int64_t>(i), l->second, r->second});
        }
    }
    std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
        if (a.score != b.score) return a.score > b.score;
        return std::tie(a.piece, a.left, a.right) < std::tie(b.piece, b.left, b.right);
    });
    json out = json::array();
    for (const auto& m : merges)
        out.push_back({v.tokens[m.left], v.tokens[m.right]});
    return out;
}

json template_processing(const std::optional<std::string>& bos,
                         const std::optional<std::string>& eos,
                         const std::map<std::string, std::int64_t>& special_ids)
{
    auto sequence = [&](const char* id, int type_id) {
        json seq = json::array();
        if (bos) seq.push_back({{"SpecialToken", {{"id", *bos}, {"type_id", type_id}}}});
        seq.push_back({{"Sequence", {{"id", id}, {"type_id", type_id}}}});
        if (eos) seq.push_back({{"SpecialToken", {{"id", *eos}, {"type_id", type_id}}}});
        return seq;
    };
    json pair = sequence("A", 0);
    for (const auto& item : sequence("B", 1))
        pair.push_back(item);
    json specials = json::object();
    for (const auto& [text, id] : special_ids)
        specials[text] = {{"id", text}, {"ids", {id}}, {"tokens", {text}}};
    return {{"type", "TemplateProcessing"},
            {"single", sequence("A", 0)},
            {"pair", pair},
            {"special_tokens", specials}};
}

void write_json(const fs::path& path, const json& j)
{
    write_file_atomically(path.string(), [&](std::ostream& out) { out << j.dump(2) << "\n"; });
}

}  // namespace

bool write_gguf_tokenizer(const GgufReader& reader, const std::string& out_dir,
                          std::string* why_not)
{
    const Value* model = reader.find("tokenizer.ggml.model");
    if (!model || !reader.find("tokenizer.ggml.tokens")) {
        if (why_not) *why_not = "the GGUF has no tokenizer.ggml vocabulary";
        return false;
    }
    if (model->as_string() != "llama") {
        if (why_not)
            *why_not = "tokenizer.ggml.model '" + model->as_string() +
                       "' is not rebuilt (only the SentencePiece-style 'llama' model is)";
        return false;
    }
    const Vocab v = read_vocab(reader);
    const std::size_t n = v.tokens.size();
    const auto unk = token_id(reader, "tokenizer.ggml.unknown_token_id", n);
    const auto bos = token_id(reader, "tokenizer.ggml.bos_token_id", n);
    const auto eos = token_id(reader, "tokenizer.ggml.eos_token_id", n);
    const bool add_bos = flag(reader, "tokenizer.ggml.add_bos_token", true) && bos.has_value();
    const bool add_eos = flag(reader, "tokenizer.ggml.add_eos_token", false) && eos.has_value();

    json vocab = json::object();
    json added = json::array();
    for (std::size_t i = 0; i < n; ++i) {
        if (!vocab.contains(v.tokens[i])) vocab[v.tokens[i]] = i;
        const auto type = v.types[i];
        if (type == kControl || type == kUnknown || type == kUserDefined)
            added.push_back({{"id", i},
                             {"content", v.tokens[i]},
                             {"single_word", false},
                             {"lstrip", false},
                             {"rstrip", false},
                             {"normalized", false},
                             {"special", type != kUserDefined}});
    }
    const auto text = [&](std::optional<std::int64_t> id) {
        return id ? std::optional<std::string>(v.tokens[static_cast<std::size_t>(*id)])
                  : std::nullopt;
    };
    std::map<std::string, std::int64_t> special_ids;
    if (add_bos) special_ids[*text(bos)] = *bos;
    if (add_eos) special_ids[*text(eos)] = *eos;

    // llama.cpp's add_space_prefix (SentencePiece's add_dummy_prefix): the "▁" prepended to
    // the text, which the decoder strips again.
    const bool space_prefix = flag(reader, "tokenizer.ggml.add_space_prefix", true);
    json normalizers = json::array();
    if (space_prefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", "\u2581"}});
    normalizers.push_back(
        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}});
    json decoders = {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}};
    if (space_prefix)
        decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    const json tokenizer = {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", added},
        {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
        {"pre_tokenizer", nullptr},
        {"post_processor", template_processing(add_bos ? text(bos) : std::nullopt,
                                               add_eos ? text(eos) : std::nullopt, special_ids)},
        {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", unk ? json(*text(unk)) : json(nullptr)},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", true},
          {"byte_fallback", true},
          {"ignore_merges", false},
          {"vocab", vocab},
          {"merges", rebuild_merges(v)}}}};
    write_json(fs::path(out_dir) / "tokenizer.json", tokenizer);

    json special_map = json::object();
    json config = {{"add_bos_token", add_bos},
                   {"add_eos_token", add_eos},
                   {"clean_up_tokenization_spaces", false},
                   {"legacy", true},
                   {"tokenizer_class", "LlamaTokenizer"}};
    for (const auto& [key, id] :
         {std::pair{"bos_token", bos}, {"eos_token", eos}, {"unk_token", unk}})
        if (id) {
            special_map[key] = *text(id);
            config[key] = *text(id);
        }
    write_json(fs::path(out_dir) / "tokenizer_config.json", config);
    write_json(fs::path(out_dir) / "special_tokens_map.json", special_map);
    return true;
}

}  // namespace qs::gguf
