// llama.cpp's tokenizer metadata (tokenizer.ggml.*) from a Hugging Face tokenizer.json (or a
// SentencePiece tokenizer.model), for
// SentencePiece-style vocabularies (what llama.cpp calls the "llama" tokenizer model): a
// Unigram model with its scores, or a byte-fallback BPE converted from SentencePiece, whose
// scores are derived from the merge ranks (earlier merge = higher score, the priority
// llama.cpp's SPM tokenizer merges by). Token types follow convert_hf_to_gguf.py: special
// added tokens CONTROL, the unknown token UNKNOWN, <0xXX> BYTE, padding rows UNUSED.
// Byte-level (GPT-2 style) vocabularies are refused for now: llama.cpp needs their
// pre-tokenizer name, which a tokenizer.json does not state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/export/gguf_writer.h"

namespace qs::gguf {

// llama_token_type values.
enum class TokenType : std::int32_t {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

struct GgufVocab {
    std::string model = "llama";  // tokenizer.ggml.model
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<std::int32_t> types;
    std::int64_t unk_id = -1;
};

// Reads tokenizer.json and pads the vocabulary to n_vocab rows (the embedding's row count)
// with "[PAD<i>]" UNUSED tokens. Throws QsError naming the file for an unsupported model
// type, a malformed file, or more tokens than n_vocab.
GgufVocab read_vocab_for_gguf(const std::string& tokenizer_json, std::int64_t n_vocab);

// The same from a SentencePiece tokenizer.model (unigram or BPE), as convert_hf_to_gguf.py's
// sentencepiece path: pieces, their scores and types as stored, unk_id from the trainer spec.
GgufVocab read_sentencepiece_vocab_for_gguf(const std::string& tokenizer_model,
                                            std::int64_t n_vocab);

// Sets tokenizer.ggml.{model,tokens,scores,token_type,unknown_token_id,bos_token_id,
// eos_token_id,add_bos_token,add_eos_token}; bos/eos ids < 0 are left out.
void set_vocab_metadata(GgufWriter& writer, const GgufVocab& vocab, std::int64_t bos_id,
                        std::int64_t eos_id, bool add_bos, bool add_eos);

}  // namespace qs::gguf
