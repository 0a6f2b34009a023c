// GPT-2's reversible byte <-> unicode mapping, used by byte-level BPE (GPT-2, OPT, Llama-3,
// Qwen2). Every byte becomes one printable code point, so a BPE vocabulary over these symbols
// covers any byte string: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order (space -> U+0120 'Ġ', newline -> U+010A 'Ċ').
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qs {

// The UTF-8 text of the symbol for byte b.
const std::string& byte_level_symbol(std::uint8_t b);

// Maps every byte of text to its symbol (HF ByteLevel pre-tokenizer's normalization step).
std::string byte_level_encode(std::string_view text);

// Inverse mapping of one token. Returns false (and leaves out untouched) when some character of
// token is not a byte symbol: HF's ByteLevel decoder then keeps the token's own bytes.
bool byte_level_decode_token(std::string_view token, std::string& out);

}  // namespace qs
