// Conservative NFC check; see nfc_check.h. The ranges leave out every combining mark block and
// the singletons with NFC_Quick_Check=No inside otherwise stable blocks (U+0374, U+037E, U+0387,
// U+2000-2001, U+2126, U+212A-212B, U+2329-232A, ...); when in doubt a block is left out, since
// a refusal is a clear error and a wrong pass would be a silent mismatch.
#include "core/tokenizer/nfc_check.h"

#include <cstdio>
#include <iterator>

#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

namespace {

struct Range {
    char32_t first, last;
};

// Sorted, inclusive.
constexpr Range kStable[] = {
    {0x0000, 0x02FF},  // ASCII, Latin-1, Latin Extended-A/B, IPA, spacing modifiers
    {0x0370, 0x0373},   {0x0375, 0x037D}, {0x037F, 0x0386}, {0x0388, 0x03FF},  // Greek
    {0x0400, 0x0482},   {0x048A, 0x052F},  // Cyrillic (without the combining 0483-0489)
    {0x05D0, 0x05EA},   {0x05F0, 0x05F4},  // Hebrew letters
    {0x060C, 0x060C},   {0x061B, 0x061B}, {0x061F, 0x064A}, {0x0660, 0x066F},
    {0x0671, 0x06D3},   {0x06D5, 0x06D5},  // Arabic letters and digits
    {0x1E00, 0x1EFF},                      // Latin Extended Additional (precomposed)
    {0x2002, 0x206F},                      // General Punctuation (2000-2001 decompose)
    {0x2070, 0x20CF},                      // super/subscripts, currency
    {0x2100, 0x2125},   {0x2127, 0x2129}, {0x212C, 0x214F},  // letterlike
    {0x2150, 0x2328},   {0x232B, 0x23FF},  // number forms, arrows, maths, technical
    {0x2400, 0x2ADB},   {0x2ADD, 0x2BFF},  // pictographs, shapes, dingbats (2ADC decomposes)
    {0x3000, 0x3029},   {0x3030, 0x3098}, {0x309B, 0x30FF},  // CJK punctuation, kana
    {0x3100, 0x4DBF},  // bopomofo, CJK strokes/compat (no decompositions), CJK ext A
    {0x4E00, 0x9FFF},  // CJK unified ideographs
    {0xA000, 0xA4CF},  // Yi
    {0xAC00, 0xD7A3},  // Hangul syllables (already composed)
    {0xFE00, 0xFE0F},   {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F},  // variation selectors, forms
    {0xFF00, 0xFFEF},    // half/fullwidth forms (compatibility only)
    {0x1D400, 0x1D7FF},  // mathematical alphanumerics (compatibility only)
    {0x1F000, 0x1FAFF},  // mahjong .. emoji
    {0x20000, 0x2A6DF},  // CJK ext B
};

}  // namespace

bool nfc_stable(char32_t cp)
{
    for (const Range& r : kStable) {
        if (cp >= r.first && cp <= r.last) return true;
    }
    return false;
}

void require_nfc(std::string_view text)
{
    std::size_t pos = 0;
    while (pos < text.size()) {
        // ASCII fast path.
        if (static_cast<unsigned char>(text[pos]) < 0x80) {
            ++pos;
            continue;
        }
        const std::size_t start = pos;
        const char32_t cp = utf8_next(text, pos);
        if (!nfc_stable(cp)) {
            char code[16];
            std::snprintf(code, sizeof(code), "U+%04X", static_cast<unsigned>(cp));
            throw QsError(std::string("NFC normalization of ") + code + " (byte " +
                          std::to_string(start) +
                          ") is not supported: only text already in NFC form is");
        }
    }
}

}  // namespace qs
