// Added-token matching; see added_tokens.h. The strip and single_word rules are transcribed from
// AddedVocabulary::find_matches of HF `tokenizers`.
#include "core/tokenizer/added_tokens.h"

#include <algorithm>

#include "core/tokenizer/unicode_regex.h"
#include "core/tokenizer/utf8.h"

namespace qs {

namespace {

// HF tests word boundaries with Rust's Unicode \w (Alphabetic, marks, Nd, Pc, Join_Control).
bool is_word_char(std::string_view ch)
{
    static const UnicodeRegex word(R"(^[\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\x{200C}\x{200D}])");
    return !word.find_all(ch).empty();
}

std::string_view last_char(std::string_view text)
{
    std::size_t start = text.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
        --start;
    return text.substr(start);
}

std::string_view first_char(std::string_view text)
{
    return text.substr(0,
                       std::min(text.size(), utf8_char_len(static_cast<unsigned char>(text[0]))));
}

bool ends_with_word(std::string_view text)
{
    return !text.empty() && is_word_char(last_char(text));
}
bool starts_with_word(std::string_view text)
{
    return !text.empty() && is_word_char(first_char(text));
}

bool is_space(std::string_view ch)
{
    std::size_t pos = 0;
    return unicode_is_whitespace(utf8_next(ch, pos));
}

// Offset just after the last non-whitespace character of text (0 when all whitespace).
std::size_t space_leftmost_at_end(std::string_view text)
{
    while (!text.empty()) {
        const std::string_view ch = last_char(text);
        if (!is_space(ch)) return text.size();
        text.remove_suffix(ch.size());
    }
    return 0;
}

// Bytes of whitespace at the start of text.
std::size_t space_rightmost_at_start(std::string_view text)
{
    std::size_t n = 0;
    while (n < text.size()) {
        const std::string_view ch = first_char(text.substr(n));
        if (!is_space(ch)) break;
        n += ch.size();
    }
    return n;
}

}  // namespace

void AddedTokenMatcher::add(const std::string& pattern, const AddedToken& token)
{
    if (pattern.empty()) return;  // HF never matches an empty token
    m_entries.push_back({pattern, token});
    auto& bucket = m_by_first_byte[static_cast<unsigned char>(pattern[0])];
    bucket.push_back(m_entries.size() - 1);
    std::stable_sort(bucket.begin(), bucket.end(), [this](std::size_t a, std::size_t b) {
        return m_entries[a].pattern.size() > m_entries[b].pattern.size();
    });
}

std::vector<AddedTokenSplit> AddedTokenMatcher::split(std::string_view text) const
{
    std::vector<AddedTokenSplit> splits;
    if (text.empty()) return splits;
    std::size_t start_offset = 0;  // end of the previous emitted piece
    std::size_t pos = 0;
    while (pos < text.size()) {
        // Leftmost-longest: the first position where any pattern matches, its longest pattern.
        const Entry* hit = nullptr;
        for (const std::size_t index : m_by_first_byte[static_cast<unsigned char>(text[pos])]) {
            const Entry& e = m_entries[index];
            if (text.compare(pos, e.pattern.size(), e.pattern) == 0) {
                hit = &e;
                break;
            }
        }
        if (!hit) {
            ++pos;
            continue;
        }
        std::size_t start = pos, stop = pos + hit->pattern.size();
        pos = stop;  // matches never overlap, even when the rules below discard this one
        const AddedToken& token = hit->token;
        if (token.single_word) {
            const bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
            const bool stop_space = stop == text.size() || !starts_with_word(text.substr(stop));
            if (!start_space || !stop_space) continue;
        }
        if (token.lstrip)
            start = std::max(space_leftmost_at_end(text.substr(0, start)), start_offset);
        if (token.rstrip) stop += space_rightmost_at_start(text.substr(stop));
        if (start_offset < start) splits.push_back({start_offset, start, -1});
        splits.push_back({start, stop, token.id});
        start_offset = stop;
        pos = std::max(pos, stop);
    }
    if (start_offset < text.size()) splits.push_back({start_offset, text.size(), -1});
    return splits;
}

}  // namespace qs
