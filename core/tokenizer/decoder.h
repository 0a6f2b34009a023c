// Decoders of tokenizer.json ("decoder" key): they turn the token strings of an id sequence back
// into text. Supported, with HF `tokenizers` semantics: ByteLevel, Metaspace, Replace (String
// pattern), ByteFallback, Fuse, Strip, BPEDecoder and Sequence. Without a decoder HF joins the
// tokens with spaces, and so do we. Unknown types are a load error naming the file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace qs {

class Decoder {
public:
    virtual ~Decoder() = default;
    // HF's decode_chain: tokens in, tokens out (the caller concatenates the result).
    virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// nullptr for a JSON null. Throws QsError "<file>: ...".
std::unique_ptr<Decoder> parse_decoder(const nlohmann::json& spec, const std::string& file);

// The full decode: the chain, then concatenation (or " "-join without a decoder); the result is
// made valid UTF-8 the way Rust's from_utf8_lossy does.
std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens);

}  // namespace qs
