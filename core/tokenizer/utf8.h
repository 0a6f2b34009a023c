// UTF-8 helpers for the tokenizers. Conventions: strings are byte strings holding UTF-8; offsets
// are byte offsets; code points are char32_t. Validation follows RFC 3629 (no overlongs, no
// surrogates, nothing above U+10FFFF), the same set Rust's str accepts, so every text we accept
// is one Hugging Face `tokenizers` would accept too.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qs {

// Byte offset of the first byte that does not start a valid UTF-8 sequence, or npos.
std::size_t utf8_first_invalid(std::string_view text);

// Throws QsError "invalid UTF-8 at byte N" when text is not valid UTF-8.
void utf8_validate(std::string_view text);

// Length in bytes of the sequence whose lead byte is `lead` (1 for a stray byte, so that a
// loop over unvalidated text still advances).
std::size_t utf8_char_len(unsigned char lead);

// Decodes the code point at pos (text must be valid there) and moves pos past it.
char32_t utf8_next(std::string_view text, std::size_t& pos);

// Appends the UTF-8 encoding of cp.
void utf8_append(std::string& out, char32_t cp);

// Rust's char::is_whitespace: the Unicode White_Space property.
bool unicode_is_whitespace(char32_t cp);

// Replaces every invalid sequence with U+FFFD, the way Rust's String::from_utf8_lossy does
// (one replacement per maximal invalid prefix), which the HF decoders rely on.
std::string utf8_lossy(std::string_view bytes);

}  // namespace qs
