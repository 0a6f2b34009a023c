// Pre-tokenizers of tokenizer.json ("pre_tokenizer" key): they cut each normalized piece of
// text into the words that BPE then tokenizes one by one. Supported, with HF `tokenizers`
// semantics: ByteLevel (GPT-2 regex, add_prefix_space, use_regex), Split (String or Regex
// pattern, every behaviour, invert), Metaspace (prepend_scheme first/always/never, split, the
// older add_prefix_space), Digits, Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer,
// CharDelimiterSplit and Sequence. Unknown types are a load error naming the file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace qs {

// GPT-2's split regex, the one HF's ByteLevel pre-tokenizer uses when use_regex is true.
inline constexpr const char* kGpt2SplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct PreToken {
    std::string text;
    // Starts at byte 0 of the caller's input: Metaspace's prepend_scheme "first" prepends only
    // there (HF tests offsets_original().0 == 0), not after an added token.
    bool at_start = false;
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces pieces by their sub-pieces, in order; empty pieces are dropped.
    virtual void pre_tokenize(std::vector<PreToken>& pieces) const = 0;
};

// nullptr for a JSON null (the whole piece is one word). Throws QsError "<file>: ...".
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const nlohmann::json& spec,
                                                  const std::string& file);

}  // namespace qs
