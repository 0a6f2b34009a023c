// PCRE2 wrapper; see unicode_regex.h.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/tokenizer/unicode_regex.h"

#include <pcre2.h>

#include "core/util/error.h"

namespace qs {

UnicodeRegex::UnicodeRegex(const std::string& pattern) : m_pattern(pattern)
{
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
    if (!code) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error_code, message, sizeof(message));
        throw QsError("bad regex '" + pattern + "': " + reinterpret_cast<const char*>(message) +
                      " at offset " + std::to_string(error_offset));
    }
    // JIT makes splitting a corpus several times faster; where it is unavailable the
    // interpreter gives the same matches.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    m_code.reset(code, [](pcre2_code* c) { pcre2_code_free(c); });
}

std::vector<std::pair<std::size_t, std::size_t>> UnicodeRegex::find_all(std::string_view text) const
{
    std::vector<std::pair<std::size_t, std::size_t>> matches;
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> data(
        pcre2_match_data_create_from_pattern(m_code.get(), nullptr), pcre2_match_data_free);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t start = 0;
    while (start <= text.size()) {
        const int rc = pcre2_match(m_code.get(), subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                   data.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(rc, message, sizeof(message));
            throw QsError("regex '" + m_pattern +
                          "' failed: " + reinterpret_cast<const char*>(message));
        }
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
        const std::size_t begin = ovector[0], end = ovector[1];
        if (end > begin) {
            matches.emplace_back(begin, end);
            start = end;
        } else {
            // An empty match splits nothing (HF drops empty pieces); step over one character.
            if (begin >= text.size()) break;
            start = begin + 1;
            while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
                ++start;
        }
    }
    return matches;
}

}  // namespace qs
