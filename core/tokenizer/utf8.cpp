// UTF-8 validation and decoding; see utf8.h.
#include "core/tokenizer/utf8.h"

#include <algorithm>

#include "core/util/error.h"

namespace qs {

namespace {

// Length of the valid sequence starting at pos, or 0 when the bytes there are not one. Also
// reports how many bytes form the longest valid prefix (for lossy decoding).
std::size_t valid_sequence_len(std::string_view text, std::size_t pos, std::size_t* prefix_len)
{
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char b0 = byte(pos);
    if (prefix_len) *prefix_len = 1;
    if (b0 < 0x80) return 1;
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;  // no overlongs
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    for (std::size_t i = 1; i < len; ++i) {
        if (pos + i >= text.size()) return 0;
        const unsigned char b = byte(pos + i);
        const bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        if (!ok) return 0;
        if (prefix_len) *prefix_len = i + 1;
    }
    return len;
}

}  // namespace

std::size_t utf8_first_invalid(std::string_view text)
{
    std::size_t pos = 0;
    while (pos < text.size()) {
        // ASCII fast path: most text is mostly ASCII.
        if (static_cast<unsigned char>(text[pos]) < 0x80) {
            ++pos;
            continue;
        }
        const std::size_t len = valid_sequence_len(text, pos, nullptr);
        if (len == 0) return pos;
        pos += len;
    }
    return std::string_view::npos;
}

void utf8_validate(std::string_view text)
{
    const std::size_t bad = utf8_first_invalid(text);
    if (bad != std::string_view::npos)
        throw QsError("invalid UTF-8 at byte " + std::to_string(bad));
}

std::size_t utf8_char_len(unsigned char lead)
{
    if (lead < 0xC0) return 1;
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    return lead < 0xF8 ? 4 : 1;
}

char32_t utf8_next(std::string_view text, std::size_t& pos)
{
    const auto b0 = static_cast<unsigned char>(text[pos]);
    const std::size_t len = std::min(utf8_char_len(b0), text.size() - pos);
    char32_t cp = len == 1 ? b0 : (len == 2 ? (b0 & 0x1F) : (len == 3 ? (b0 & 0x0F) : (b0 & 0x07)));
    for (std::size_t i = 1; i < len; ++i)
        cp = (cp << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
    pos += len;
    return cp;
}

void utf8_append(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool unicode_is_whitespace(char32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

std::string utf8_lossy(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size());
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t prefix = 1;
        const std::size_t len = valid_sequence_len(bytes, pos, &prefix);
        if (len > 0) {
            out.append(bytes.substr(pos, len));
            pos += len;
        } else {
            out += "\xEF\xBF\xBD";  // U+FFFD
            pos += prefix;
        }
    }
    return out;
}

}  // namespace qs
