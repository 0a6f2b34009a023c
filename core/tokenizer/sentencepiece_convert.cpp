// SentencePiece -> tokenizer.json conversion; see sentencepiece_convert.h.
#include "core/tokenizer/sentencepiece_convert.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

namespace {

std::size_t char_count(std::string_view s)
{
    std::size_t n = 0;
    for (const char c : s)
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

// Pieces libsentencepiece can merge into (its pieces_ map): not control, unknown or byte pieces.
bool mergeable(const SentencePieceEntry& p)
{
    return p.type == SentencePieceType::Normal || p.type == SentencePieceType::UserDefined ||
           p.type == SentencePieceType::Unused;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> sentencepiece_merges(
    const std::vector<SentencePieceEntry>& pieces, SentencePieceFlavor flavor)
{
    const bool hf = flavor == SentencePieceFlavor::HuggingFace;
    std::unordered_map<std::string_view, std::size_t> id_of;
    id_of.reserve(pieces.size());
    for (std::size_t i = 0; i < pieces.size(); ++i)
        id_of.emplace(pieces[i].piece, i);

    struct Candidate {
        std::size_t left, right;
        float score;
        std::size_t left_chars, right_chars;
    };
    std::vector<Candidate> candidates;
    std::vector<Candidate> local;
    for (std::size_t id = 0; id < pieces.size(); ++id) {
        const std::string& piece = pieces[id].piece;
        if (!hf && !mergeable(pieces[id])) continue;
        // LlamaConverter.vocab() gives <unk>, <s>, </s> the score 0.
        const float score = hf && id < 3 ? 0.0f : pieces[id].score;
        local.clear();
        std::size_t pos = 0;
        while (pos < piece.size()) {
            pos += utf8_char_len(static_cast<unsigned char>(piece[pos]));
            if (pos >= piece.size()) break;
            const auto l = id_of.find(std::string_view(piece).substr(0, pos));
            const auto r = id_of.find(std::string_view(piece).substr(pos));
            if (l == id_of.end() || r == id_of.end()) continue;
            if (!hf && (!mergeable(pieces[l->second]) || !mergeable(pieces[r->second]))) continue;
            local.push_back(
                {l->second, r->second, score, char_count(l->first), char_count(r->first)});
        }
        std::sort(local.begin(), local.end(), [](const Candidate& a, const Candidate& b) {
            return a.left != b.left ? a.left < b.left : a.right < b.right;
        });
        candidates.insert(candidates.end(), local.begin(), local.end());
    }
    // sorted(key=(score, len(left), len(right)), reverse=True): stable, descending.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) {
                         if (a.score != b.score) return a.score > b.score;
                         if (a.left_chars != b.left_chars) return a.left_chars > b.left_chars;
                         return a.right_chars > b.right_chars;
                     });
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(candidates.size());
    for (const Candidate& c : candidates)
        merges.emplace_back(pieces[c.left].piece, pieces[c.right].piece);
    return merges;
}

std::string sentencepiece_to_tokenizer_json(const SentencePieceModelProto& model,
                                            SentencePieceFlavor flavor, const std::string& source)
{
    const bool hf = flavor == SentencePieceFlavor::HuggingFace;
    if (model.model_type != 2)
        fail_file(source, "only SentencePiece BPE models are supported (model_type " +
                              std::to_string(model.model_type) +
                              (model.model_type == 1 ? ", unigram)" : ")"));
    if (!hf && model.has_charsmap)
        fail_file(source, "SentencePiece normalization '" + model.normalizer_name +
                              "' is not supported (only identity)");
    using Json = nlohmann::json;
    const std::string meta = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

    Json vocab = Json::object();
    Json added = Json::array();
    std::string unk_piece;
    for (std::size_t id = 0; id < model.pieces.size(); ++id) {
        const SentencePieceEntry& p = model.pieces[id];
        vocab[p.piece] = id;
        if (p.type == SentencePieceType::Unknown) unk_piece = p.piece;
        const bool user = p.type == SentencePieceType::UserDefined;
        const bool control =
            p.type == SentencePieceType::Unknown || p.type == SentencePieceType::Control;
        if (user || (hf && control)) {
            added.push_back({{"id", id},
                             {"content", p.piece},
                             {"single_word", false},
                             {"lstrip", false},
                             {"rstrip", false},
                             {"normalized", false},
                             {"special", !user}});
        }
    }
    Json merges = Json::array();
    for (auto& [l, r] : sentencepiece_merges(model.pieces, flavor))
        merges.push_back({l, r});

    Json normalizers = Json::array();
    if (!hf && model.remove_extra_whitespaces) {
        // libsentencepiece trims spaces at both ends and collapses runs to one.
        normalizers.push_back(
            {{"type", "Replace"}, {"pattern", {{"Regex", "^ +| +$"}}}, {"content", ""}});
        normalizers.push_back(
            {{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}});
    }
    if (model.add_dummy_prefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", meta}});
    normalizers.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", meta}});
    Json decoders = {{{"type", "Replace"}, {"pattern", {{"String", meta}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}};
    if (model.add_dummy_prefix)
        decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});

    Json doc = {{"version", "1.0"},
                {"added_tokens", added},
                {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
                {"pre_tokenizer", nullptr},
                {"post_processor", nullptr},
                {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
                {"model",
                 {{"type", "BPE"},
                  {"unk_token", unk_piece.empty() ? Json(nullptr) : Json(unk_piece)},
                  {"fuse_unk", true},
                  {"byte_fallback", true},
                  {"ignore_merges", false},
                  {"vocab", vocab},
                  {"merges", merges}}}};
    const std::int32_t bos = model.bos_id;
    if (bos >= 0 && static_cast<std::size_t>(bos) < model.pieces.size()) {
        // LlamaConverter's template: BOS before the sequence, nothing after.
        const std::string& bos_piece = model.pieces[static_cast<std::size_t>(bos)].piece;
        Json special = {
            {"id", bos_piece}, {"ids", Json::array({bos})}, {"tokens", Json::array({bos_piece})}};
        Json single = Json::array();
        single.push_back({{"SpecialToken", {{"id", bos_piece}, {"type_id", 0}}}});
        single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
        Json pair = single;
        pair.push_back({{"SpecialToken", {{"id", bos_piece}, {"type_id", 1}}}});
        pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
        doc["post_processor"] = {{"type", "TemplateProcessing"},
                                 {"single", single},
                                 {"pair", pair},
                                 {"special_tokens", {{bos_piece, special}}}};
    }
    return doc.dump();
}

std::string sentencepiece_to_tokenizer_json(const std::string& path)
{
    return sentencepiece_to_tokenizer_json(read_sentencepiece_proto(path),
                                           SentencePieceFlavor::HuggingFace, path);
}

}  // namespace qs
