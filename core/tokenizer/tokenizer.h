// Tokenizer interface. Implementations: BpeTokenizer (tokenizer.json, model type BPE; byte-level
// GPT-2/OPT/Llama-3/Qwen2 style or SentencePiece style with byte fallback) and
// SentencePieceTokenizer (tokenizer.model through libsentencepiece). load_tokenizer() picks one
// for a model directory and applies tokenizer_config.json's BOS/EOS settings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qs {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // Text -> ids, without special tokens (no BOS/EOS). Throws QsError on invalid UTF-8.
    virtual std::vector<std::int32_t> encode_raw(const std::string& text) const = 0;
    // Ids -> text; special tokens are skipped when skip_special is true.
    virtual std::string decode(const std::vector<std::int32_t>& ids,
                               bool skip_special = true) const = 0;
    virtual std::int64_t vocab_size() const = 0;

    // encode_raw with BOS/EOS added as the tokenizer config says (the model's default).
    std::vector<std::int32_t> encode(const std::string& text) const;

    std::int32_t bos_id() const { return m_bos_id; }
    std::int32_t eos_id() const { return m_eos_id; }
    bool adds_bos() const { return m_add_bos; }
    bool adds_eos() const { return m_add_eos; }
    void set_special(std::int32_t bos_id, std::int32_t eos_id, bool add_bos, bool add_eos)
    {
        m_bos_id = bos_id;
        m_eos_id = eos_id;
        m_add_bos = add_bos;
        m_add_eos = add_eos;
    }

private:
    std::int32_t m_bos_id = -1;
    std::int32_t m_eos_id = -1;
    bool m_add_bos = false;
    bool m_add_eos = false;
};

// Loads tokenizer.json (preferred) or tokenizer.model from dir, plus tokenizer_config.json /
// special_tokens_map.json for BOS/EOS. Throws QsError naming the directory when none exists.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir);

}  // namespace qs
