// SentencePiece ModelProto reader; see sentencepiece_model_proto.h. Unknown fields are skipped by
// wire type, so newer model files with more fields still read.
#include "core/tokenizer/sentencepiece_model_proto.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

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
        for (int i = 0; i < 4; ++i)
            bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(m_data[m_pos + i]))
                    << (8 * i);
        m_pos += 4;
        float value;
        std::memcpy(&value, &bits, sizeof(value));
        return value;
    }
    void skip(int wire_type)
    {
        switch (wire_type) {
            case 0:
                varint();
                break;
            case 1:
                advance(8);
                break;
            case 2:
                bytes();
                break;
            case 5:
                advance(4);
                break;
            default:
                fail();
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
        if (m_data.size() - m_pos < n)
            fail();
        else
            m_pos += n;
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
        if (field == 1 && wire == 2)
            entry.piece = std::string(r.bytes());
        else if (field == 2 && wire == 5)
            entry.score = r.fixed32_float();
        else if (field == 3 && wire == 0)
            entry.type = static_cast<SentencePieceType>(r.varint());
        else
            r.skip(wire);
    }
    ok = ok && r.ok();
    return entry;
}

// Reads one varint field (wire type 0) by number from a sub-message, keeping fallback if absent.
std::uint64_t varint_field(std::string_view data, std::uint64_t number, std::uint64_t fallback,
                           bool& ok)
{
    WireReader r(data);
    while (!r.done()) {
        const std::uint64_t key = r.varint();
        if ((key >> 3) == number && (key & 7) == 0)
            fallback = r.varint();
        else
            r.skip(static_cast<int>(key & 7));
    }
    ok = ok && r.ok();
    return fallback;
}

// int32 fields are varints holding the two's complement in 64 bits.
std::int32_t int32_field(std::string_view data, std::uint64_t number, std::uint64_t fallback,
                         bool& ok)
{
    return static_cast<std::int32_t>(
        static_cast<std::int64_t>(varint_field(data, number, fallback, ok)));
}

// The last length-delimited field with this number ("" if absent).
std::string_view bytes_field(std::string_view data, std::uint64_t number, bool& ok)
{
    std::string_view value;
    WireReader r(data);
    while (!r.done()) {
        const std::uint64_t key = r.varint();
        if ((key >> 3) == number && (key & 7) == 2)
            value = r.bytes();
        else
            r.skip(static_cast<int>(key & 7));
    }
    ok = ok && r.ok();
    return value;
}

}  // namespace

SentencePieceModelProto read_sentencepiece_proto(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_file(path, "cannot open");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string data = buffer.str();

    SentencePieceModelProto model;
    bool ok = true;
    WireReader r(data);
    while (!r.done()) {
        const std::uint64_t key = r.varint();
        const auto field = key >> 3;
        const int wire = static_cast<int>(key & 7);
        if (field == 1 && wire == 2) {
            model.pieces.push_back(parse_piece(r.bytes(), ok));
        } else if (field == 2 && wire == 2) {
            // TrainerSpec: model_type = 3, unk_id = 40, bos_id = 41, eos_id = 42, pad_id = 43.
            const std::string_view spec = r.bytes();
            model.model_type = static_cast<int>(varint_field(spec, 3, 1, ok));
            model.unk_id = int32_field(spec, 40, 0, ok);
            model.bos_id = int32_field(spec, 41, 1, ok);
            model.eos_id = int32_field(spec, 42, 2, ok);
            model.pad_id = int32_field(spec, 43, static_cast<std::uint64_t>(-1), ok);
        } else if (field == 3 && wire == 2) {
            // NormalizerSpec: name = 1, precompiled_charsmap = 2, add_dummy_prefix = 3,
            // remove_extra_whitespaces = 4.
            const std::string_view spec = r.bytes();
            model.normalizer_name = std::string(bytes_field(spec, 1, ok));
            model.has_charsmap = !bytes_field(spec, 2, ok).empty();
            model.add_dummy_prefix = varint_field(spec, 3, 1, ok) != 0;
            model.remove_extra_whitespaces = varint_field(spec, 4, 1, ok) != 0;
        } else {
            r.skip(wire);
        }
    }
    if (!ok || !r.ok() || model.pieces.empty())
        fail_file(path, "not a SentencePiece model (bad protobuf)");
    for (std::size_t i = 0; i < model.pieces.size(); ++i) {
        if (utf8_first_invalid(model.pieces[i].piece) != std::string::npos)
            fail_file(path, "piece " + std::to_string(i) + " is not valid UTF-8");
    }
    return model;
}

}  // namespace qs
