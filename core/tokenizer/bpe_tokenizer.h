// A tokenizer.json tokenizer with a BPE model, run the way HF `tokenizers` runs it: added tokens
// are cut out of the raw text, the rest is normalized, pre-tokenized into words, and each word
// is tokenized by the BPE model; decode maps ids back to token strings and runs the decoder.
// Covers the byte-level family (GPT-2, OPT, Llama-3, Qwen2) and the SentencePiece-style family
// (Llama-2, Mistral, TinyLlama: Metaspace or Prepend/Replace normalizers, byte fallback).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/post_processor.h"
#include "core/tokenizer/tokenizer.h"

namespace qs {

class BpeModel;
class Decoder;
class Normalizer;
class PreTokenizer;

class BpeTokenizer : public Tokenizer {
public:
    // Reads a tokenizer.json file. Throws QsError "<path>: <problem>" when it is missing, not
    // JSON, not a BPE model, or inconsistent.
    static std::unique_ptr<BpeTokenizer> from_file(const std::string& path);
    // Same from JSON text; `source` names it in error messages.
    static std::unique_ptr<BpeTokenizer> from_json(const std::string& json_text,
                                                   const std::string& source);

    ~BpeTokenizer() override;

    std::vector<std::int32_t> encode_raw(const std::string& text) const override;
    std::string decode(const std::vector<std::int32_t>& ids,
                       bool skip_special = true) const override;
    std::int64_t vocab_size() const override;

    // Added tokens first, then the model vocabulary (as HF's token_to_id).
    std::optional<std::int32_t> token_to_id(const std::string& token) const;
    // "" for an id with no token.
    std::string id_to_token(std::int32_t id) const;
    bool is_special(std::int32_t id) const;
    // What the post_processor adds around one sequence.
    const SpecialTokenTemplate& special_template() const { return m_template; }

private:
    BpeTokenizer();
    void encode_piece(std::string piece, bool at_start, std::vector<std::int32_t>& ids) const;

    std::unique_ptr<BpeModel> m_model;
    std::unique_ptr<Normalizer> m_normalizer;
    std::unique_ptr<PreTokenizer> m_pre_tokenizer;
    std::unique_ptr<Decoder> m_decoder;
    AddedTokenMatcher m_raw_added;         // normalized=false: matched before normalization
    AddedTokenMatcher m_normalized_added;  // normalized=true: matched after it
    std::unordered_map<std::int32_t, AddedToken> m_added_by_id;
    std::unordered_map<std::string, std::int32_t> m_added_by_content;
    SpecialTokenTemplate m_template;
};

}  // namespace qs
