// NFC for the tokenizers that declare it (Qwen2), without Unicode composition tables: almost all
// text a tokenizer sees is already in NFC form, for which NFC is the identity. require_nfc()
// accepts text made only of code points in blocks known to be NFC-stable (canonical combining
// class 0 and NFC_Quick_Check=Yes: Latin, Greek, Cyrillic, Hebrew and Arabic letters, CJK,
// kana, Hangul syllables, punctuation, symbols, emoji) and throws QsError for anything else, so
// that a text NFC would change is never tokenized silently differently from HF.
#pragma once

#include <string_view>

namespace qs {

// True when NFC(cp...) leaves any sequence of such code points unchanged.
bool nfc_stable(char32_t cp);

// Throws QsError "NFC normalization of U+XXXX (byte N) is not supported" for the first code
// point that is not nfc_stable. text must be valid UTF-8.
void require_nfc(std::string_view text);

}  // namespace qs
