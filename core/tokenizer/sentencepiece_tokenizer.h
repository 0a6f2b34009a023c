// A tokenizer.model (SentencePiece protobuf) run through libsentencepiece itself: the reference
// behaviour for Llama-1/2-era models that ship no tokenizer.json. libsentencepiece stays out of
// this header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace qs {

class SentencePieceTokenizer : public Tokenizer {
public:
    // Throws QsError "<path>: <problem>" when the file is missing or not a SentencePiece model.
    explicit SentencePieceTokenizer(const std::string& model_path);
    ~SentencePieceTokenizer() override;

    std::vector<std::int32_t> encode_raw(const std::string& text) const override;
    // Control pieces (<s>, </s>) are always skipped by libsentencepiece; with skip_special false
    // they are written out as their piece text.
    std::string decode(const std::vector<std::int32_t>& ids, bool skip_special = true) const override;
    std::int64_t vocab_size() const override;

    std::optional<std::int32_t> token_to_id(const std::string& piece) const;
    std::string id_to_token(std::int32_t id) const;
    // The model's own BOS / EOS ids (-1 when it has none).
    std::int32_t model_bos_id() const;
    std::int32_t model_eos_id() const;

private:
    std::string m_path;
    std::unique_ptr<sentencepiece::SentencePieceProcessor> m_processor;
};

}  // namespace qs
