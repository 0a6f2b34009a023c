// GPT-2 bytes_to_unicode; see byte_level.h.
#include "core/tokenizer/byte_level.h"

#include <array>
#include <unordered_map>

#include "core/tokenizer/utf8.h"

namespace qs {

namespace {

struct ByteTables {
    std::array<std::string, 256> symbol;
    std::unordered_map<char32_t, std::uint8_t> byte_of;

    ByteTables()
    {
        // Bytes that are printable and not whitespace keep their own code point; the rest are
        // numbered from 256 upwards in byte order (openai/gpt-2 encoder.py).
        const auto keeps_itself = [](int b) {
            return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        };
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const char32_t cp = keeps_itself(b) ? static_cast<char32_t>(b) : next++;
            utf8_append(symbol[b], cp);
            byte_of[cp] = static_cast<std::uint8_t>(b);
        }
    }
};

const ByteTables& tables()
{
    static const ByteTables t;
    return t;
}

}  // namespace

const std::string& byte_level_symbol(std::uint8_t b)
{
    return tables().symbol[b];
}

std::string byte_level_encode(std::string_view text)
{
    const auto& t = tables();
    std::string out;
    out.reserve(text.size() * 2);
    for (const char c : text)
        out += t.symbol[static_cast<std::uint8_t>(c)];
    return out;
}

bool byte_level_decode_token(std::string_view token, std::string& out)
{
    const auto& t = tables();
    std::string bytes;
    bytes.reserve(token.size());
    std::size_t pos = 0;
    while (pos < token.size()) {
        const auto it = t.byte_of.find(utf8_next(token, pos));
        if (it == t.byte_of.end()) return false;
        bytes.push_back(static_cast<char>(it->second));
    }
    out += bytes;
    return true;
}

}  // namespace qs
