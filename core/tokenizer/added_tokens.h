// Added tokens of tokenizer.json ("added_tokens"): strings that are cut out of the text before
// the model sees it and emitted as their ids. Matching is HF `tokenizers`' AddedVocabulary:
// leftmost-longest, non-overlapping, then per token `single_word` (discard a match inside a
// word), `lstrip` / `rstrip` (the token swallows whitespace on that side). Tokens with
// normalized=false are matched in the raw text, the others in normalized text (with their own
// content normalized); the caller keeps one matcher per kind.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qs {

struct AddedToken {
    std::string content;
    std::int32_t id = -1;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
    bool single_word = false;
    bool normalized = true;
};

// A piece of the text: [begin, end) bytes, with the id of the added token it is, or -1 for
// ordinary text that still has to be tokenized.
struct AddedTokenSplit {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::int32_t id = -1;
};

class AddedTokenMatcher {
public:
    // `pattern` is what to look for (the content, normalized for normalized tokens).
    void add(const std::string& pattern, const AddedToken& token);
    bool empty() const { return m_entries.empty(); }

    // Cuts text into added-token pieces and the text between them, in order, covering all of
    // text except whitespace a token stripped; empty pieces are left out.
    std::vector<AddedTokenSplit> split(std::string_view text) const;

private:
    struct Entry {
        std::string pattern;
        AddedToken token;
    };
    std::vector<Entry> m_entries;
    // Candidates by first byte, longest pattern first, so the scan tries few patterns per byte.
    std::array<std::vector<std::size_t>, 256> m_by_first_byte;
};

}  // namespace qs
