// A tokenizer.model (SentencePiece), as Llama-1/2-era checkpoints ship it without a
// tokenizer.json. Two engines give the same ids for BPE models (the tests check this on
// WikiText): libsentencepiece itself, reached through the dlopen'ed shim (SentencePieceModel,
// sentencepiece_library.h), and our own BPE engine running the model converted with
// SentencePieceFlavor::LibSentencePiece. Engine::Auto uses libsentencepiece and falls back to
// the native engine only when the shim library cannot be loaded, so an installed binary whose
// shim is missing still tokenizes Llama models.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace qs {

class BpeTokenizer;
class SentencePieceModel;

class SentencePieceTokenizer : public Tokenizer {
public:
    enum class Engine { Auto, LibSentencePiece, Native };

    // Throws QsError "<path>: <problem>" when the file is missing or not a SentencePiece model
    // (Native also refuses unigram models and normalization maps).
    explicit SentencePieceTokenizer(const std::string& model_path, Engine engine = Engine::Auto);
    ~SentencePieceTokenizer() override;

    std::vector<std::int32_t> encode_raw(const std::string& text) const override;
    // Control pieces (<s>, </s>) are special: skipped, or written as their piece text.
    std::string decode(const std::vector<std::int32_t>& ids,
                       bool skip_special = true) const override;
    std::int64_t vocab_size() const override;

    std::optional<std::int32_t> token_to_id(const std::string& piece) const;
    std::string id_to_token(std::int32_t id) const;
    // The model's own BOS / EOS ids (-1 when it has none).
    std::int32_t model_bos_id() const { return m_model_bos; }
    std::int32_t model_eos_id() const { return m_model_eos; }
    // Which engine runs (never Auto).
    Engine engine() const { return m_library ? Engine::LibSentencePiece : Engine::Native; }

private:
    bool is_control(std::int32_t id) const;

    std::string m_path;
    std::unique_ptr<SentencePieceModel> m_library;  // libsentencepiece, or
    std::unique_ptr<BpeTokenizer> m_native;         // our engine
    std::vector<bool> m_is_control;
    std::int32_t m_model_bos = -1;
    std::int32_t m_model_eos = -1;
};

}  // namespace qs
