// SentencePiece -> tokenizer.json conversion; see sentencepiece_convert.h. The protobuf is read
// by hand (varints and length-delimited fields) because libsentencepiece does not expose piece
// types such as USER_DEFINED, and the generated protobuf headers are not installed.
#include "core/tokenizer/sentencepiece_convert.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

namespace {

// A cursor over protobuf wire data; every read checks bounds and reports through ok.
class WireReader {
public:
    explicit WireReader(std::string_view data) : m_data(data) {}
    bool done() const { return m_pos >= m_data.size(); }
    bool ok() const { return m_ok; }

    std::uint64_t varint()
    {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_pos >= m_data.size()) return fail();
            const auto b = static_cast<unsigned char>(m_data[m_pos++]);
            value |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return value;
        }
        return fail();
    }
    std::string_view bytes()
    {
        const std::uint64_t len = varint();
        if (!m_ok || len > m_data.size() - m_pos) return fail(), std::string_view();
        const std::string_view out = m_data.substr(m_pos, len);
        m_pos += len;
        return out;
    }
    float fixed32_float()
    {
        if (m_data.size() - m_pos < 4) return static_cast<float>(fail());
        std::uint32_t bits = 0;
        for (int i = 0; i < 4; ++i) bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(m_data[m_pos + i])) << (8 * i);
        m_pos += 4;
        float value;
        std::memcpy(&value, &bits, sizeof(value));
        return value;
    }
    void skip(int wire_type)
    {
        switch (wire_type) {
            case 0: varint(); break;
            case 1: advance(8); break;
            case 2: bytes(); break;
            case 5: advance(4); break;
            default: fail();
        }
    }

private:
    std::uint64_t fail()
    {
        m_ok = false;
        m_pos = m_data.size();
        return 0;
    }
    void advance(std::size_t n)
    {
        if (m_data.size() - m_pos < n) fail(); else m_pos += n;
    }
    std::string_view m_data;
    std::size_t m_pos = 0;
    bool m_ok = true;
};

SentencePieceEntry parse_piece(std::string_view data, bool& ok)
{
    SentencePieceEntry entry;
    WireReader r(data);
    while (!r.done()) {
        const std::uint64_t key = r.varint();
        const auto field = key >> 3;
        const int wire = static_cast<int>(key & 7);
        if (field == 1 && wire == 2) entry.piece = std::string(r.bytes());
        else if (field == 2 && wire == 5) entry.score = r.fixed32_float();
        else if (field == 3 && wire == 0) entry.type = static_cast<SentencePieceType>(r.varint());
        else r.skip(wire);
    }
    ok = ok && r.ok();
    return entry;
}

// Reads one varint field (wire type 0) by number from a sub-message, keeping fallback if absent.
std::uint64_t varint_field(std::string_view data, std::uint64_t number, std::uint64_t fallback, bool& ok)
{
    WireReader r(data);
    while (!r.done()) {
        const std::uint64_t key = r.varint();
        if ((key >> 3) == number && (key & 7) == 0) fallback = r.varint();
        else r.skip(static_cast<int>(key & 7));
    }
    ok = ok && r.ok();
    return fallback;
}

std::size_t char_count(std::string_view s)
{
    std::size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

}  // namespace

SentencePieceModel read_sentencepiece_model(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_file(path, "cannot open");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string data = buffer.str();

    SentencePieceModel model;
    bool ok = true;
    WireReader r(data);
    while (!r.done()) {
        const std::uint64_t key = r.varint();
        const auto field = key >> 3;
        const int wire = static_cast<int>(key & 7);
        if (field == 1 && wire == 2) {
            model.pieces.push_back(parse_piece(r.bytes(), ok));
        } else if (field == 2 && wire == 2) {  // TrainerSpec: model_type = 3
            model.model_type = static_cast<int>(varint_field(r.bytes(), 3, 1, ok));
        } else if (field == 3 && wire == 2) {  // NormalizerSpec: add_dummy_prefix = 3, remove_extra_whitespaces = 4
            const std::string_view spec = r.bytes();
            model.add_dummy_prefix = varint_field(spec, 3, 1, ok) != 0;
            model.remove_extra_whitespaces = varint_field(spec, 4, 1, ok) != 0;
        } else {
            r.skip(wire);
        }
    }
    if (!ok || !r.ok() || model.pieces.empty()) fail_file(path, "not a SentencePiece model (bad protobuf)");
    for (std::size_t i = 0; i < model.pieces.size(); ++i) {
        if (utf8_first_invalid(model.pieces[i].piece) != std::string::npos)
            fail_file(path, "piece " + std::to_string(i) + " is not valid UTF-8");
    }
    return model;
}

std::vector<std::pair<std::string, std::string>> sentencepiece_merges(const std::vector<SentencePieceEntry>& pieces)
{
    std::unordered_map<std::string_view, std::size_t> id_of;
    id_of.reserve(pieces.size());
    for (std::size_t i = 0; i < pieces.size(); ++i) id_of.emplace(pieces[i].piece, i);

    struct Candidate {
        std::size_t left, right;
        float score;
        std::size_t left_chars, right_chars;
    };
    std::vector<Candidate> candidates;
    std::vector<Candidate> local;
    for (std::size_t id = 0; id < pieces.size(); ++id) {
        const std::string& piece = pieces[id].piece;
        // LlamaConverter.vocab() gives <unk>, <s>, </s> the score 0.
        const float score = id < 3 ? 0.0f : pieces[id].score;
        local.clear();
        std::size_t pos = 0;
        while (pos < piece.size()) {
            pos += utf8_char_len(static_cast<unsigned char>(piece[pos]));
            if (pos >= piece.size()) break;
            const auto l = id_of.find(std::string_view(piece).substr(0, pos));
            const auto r = id_of.find(std::string_view(piece).substr(pos));
            if (l != id_of.end() && r != id_of.end())
                local.push_back({l->second, r->second, score, char_count(l->first), char_count(r->first)});
        }
        std::sort(local.begin(), local.end(), [](const Candidate& a, const Candidate& b) {
            return a.left != b.left ? a.left < b.left : a.right < b.right;
        });
        candidates.insert(candidates.end(), local.begin(), local.end());
    }
    // sorted(key=(score, len(left), len(right)), reverse=True): stable, descending.
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.left_chars != b.left_chars) return a.left_chars > b.left_chars;
        return a.right_chars > b.right_chars;
    });
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(candidates.size());
    for (const Candidate& c : candidates) merges.emplace_back(pieces[c.left].piece, pieces[c.right].piece);
    return merges;
}

std::string sentencepiece_to_tokenizer_json(const std::string& path)
{
    const SentencePieceModel model = read_sentencepiece_model(path);
    if (model.model_type != 2)
        fail_file(path, "only SentencePiece BPE models convert to BPE (model_type " +
                            std::to_string(model.model_type) + ")");
    using Json = nlohmann::json;
    const std::string meta = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

    Json vocab = Json::object();
    Json added = Json::array();
    std::string unk_piece, bos_piece;
    for (std::size_t id = 0; id < model.pieces.size(); ++id) {
        const SentencePieceEntry& p = model.pieces[id];
        vocab[p.piece] = id;
        if (p.type == SentencePieceType::Unknown) unk_piece = p.piece;
        if (p.type == SentencePieceType::Control && bos_piece.empty() && p.piece == "<s>") bos_piece = p.piece;
        if (p.type == SentencePieceType::Unknown || p.type == SentencePieceType::Control ||
            p.type == SentencePieceType::UserDefined) {
            added.push_back({{"id", id}, {"content", p.piece}, {"single_word", false}, {"lstrip", false},
                             {"rstrip", false}, {"normalized", false},
                             {"special", p.type != SentencePieceType::UserDefined}});
        }
    }
    Json merges = Json::array();
    for (auto& [l, r] : sentencepiece_merges(model.pieces)) merges.push_back({l, r});

    Json normalizers = Json::array();
    if (model.add_dummy_prefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", meta}});
    normalizers.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", meta}});
    Json decoders = {{{"type", "Replace"}, {"pattern", {{"String", meta}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}};
    if (model.add_dummy_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});

    Json doc = {{"version", "1.0"},
                {"added_tokens", added},
                {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
                {"pre_tokenizer", nullptr},
                {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
                {"model",
                 {{"type", "BPE"},
                  {"unk_token", unk_piece.empty() ? Json(nullptr) : Json(unk_piece)},
                  {"fuse_unk", true},
                  {"byte_fallback", true},
                  {"ignore_merges", false},
                  {"vocab", vocab},
                  {"merges", merges}}}};
    doc["post_processor"] = nullptr;
    if (!bos_piece.empty()) {
        // LlamaConverter's template: BOS before the sequence, nothing after.
        Json special = {{"id", bos_piece}, {"ids", Json::array({vocab[bos_piece]})}, {"tokens", Json::array({bos_piece})}};
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

}  // namespace qs
