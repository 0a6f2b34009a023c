// A Hugging Face tokenizer rebuilt from a GGUF's tokenizer.ggml.* vocabulary, for import_gguf.
// Supported: tokenizer.ggml.model "llama" (SentencePiece-style; llama.cpp's SPM tokenizer),
// written as the tokenizer.json transformers' LlamaConverter makes: a byte-fallback BPE whose
// merges are rebuilt from the scores exactly as its SentencePieceExtractor does (every split
// of a normal piece into two vocabulary pieces, ordered by the piece's score, highest first,
// then by piece id and the halves' ids), the Prepend/Replace "▁" normalizer (no Prepend when
// tokenizer.ggml.add_space_prefix is false), the ByteFallback decoder, and a TemplateProcessing
// post-processor adding BOS/EOS as tokenizer.ggml.add_bos_token / add_eos_token say (BOS by
// default, as llama.cpp does). Byte-level vocabularies ("gpt2": the pre-tokenizer regex is only
// named, not stored) are not rebuilt.
#pragma once

#include <string>

namespace qs::gguf {

class GgufReader;

// Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into out_dir and
// returns true; returns false with the reason in *why_not (nothing written) when the GGUF has
// no vocabulary or one of another tokenizer model. Throws QsError naming the GGUF for a
// malformed vocabulary (arrays of different lengths, ids out of range).
bool write_gguf_tokenizer(const GgufReader& reader, const std::string& out_dir,
                          std::string* why_not);

}  // namespace qs::gguf
