// The BPE model of HF `tokenizers` (model.type "BPE"): a word is cut into characters (each looked
// up in the vocabulary, falling back to <0xXX> byte tokens or the unknown token), then adjacent
// symbols are merged, always the pair of lowest merge rank first and leftmost among equals,
// until no pair has a merge. This is HF's Word::merge_all (a priority queue keyed on
// (rank, position) with stale entries skipped), so results equal HF's id for id.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qs {

struct BpeOptions {
    std::optional<std::string> unk_token;
    bool byte_fallback = false;  // unknown char -> its UTF-8 bytes as <0xXX> tokens, if all exist
    bool fuse_unk = false;       // consecutive unknown chars -> one unknown token
    bool ignore_merges = false;  // a word that is itself in the vocabulary is taken whole
    std::string continuing_subword_prefix;  // prepended to every char but the first ("##")
    std::string end_of_word_suffix;         // appended to the last char ("</w>")
};

class BpeModel {
public:
    // merges[i] = (left, right) with rank i. Throws QsError "<source>: merges entry i references
    // unknown token 'x'" when a side or the merged token is not in vocab.
    BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
             const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
             const std::string& source);

    // Appends the ids of one pre-tokenized word.
    void tokenize(std::string_view word, std::vector<std::int32_t>& out) const;

    std::optional<std::int32_t> token_to_id(std::string_view token) const;
    // nullptr for an id with no token.
    const std::string* id_to_token(std::int32_t id) const;
    // One past the largest id.
    std::int64_t size() const { return static_cast<std::int64_t>(m_tokens.size()); }

private:
    struct Merge {
        std::uint32_t rank;
        std::int32_t new_id;
    };
    static std::uint64_t pair_key(std::int32_t a, std::int32_t b)
    {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
               static_cast<std::uint32_t>(b);
    }
    const Merge* find_merge(std::int32_t a, std::int32_t b) const;
    void merge_all(std::vector<std::int32_t>& symbols) const;

    std::unordered_map<std::string, std::int32_t> m_vocab;
    std::vector<std::string> m_tokens;  // id -> token ("" for gaps)
    std::vector<bool> m_has_token;
    std::unordered_map<std::uint64_t, Merge> m_merges;
    std::array<std::int32_t, 256> m_byte_ids{};  // <0xXX> ids, -1 where absent
    std::optional<std::int32_t> m_unk_id;
    BpeOptions m_options;
};

}  // namespace qs
