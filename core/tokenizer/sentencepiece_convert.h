// SentencePiece BPE model (tokenizer.model) -> tokenizer.json, as transformers' LlamaConverter
// builds the "fast" tokenizer of Llama-2, Mistral or TinyLlama (legacy mode): vocabulary = the
// pieces by id; merges = for every piece, each split into two pieces that are both in the
// vocabulary, ranked by the merged piece's score, highest first (ties: longer left part, then
// longer right part, then piece order); byte_fallback on the <0xXX> pieces; normalizer
// Prepend("▁") + Replace(" " -> "▁"); decoder Replace, ByteFallback, Fuse, Strip. BpeTokenizer
// run on the result gives libsentencepiece's ids (tests/core/test_tokenizer_sentencepiece.cpp
// checks this against libsentencepiece itself).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tokenizer/sentencepiece_model_proto.h"

namespace qs {

// Which tokenizer the converted file reproduces. They differ only in what is matched in text.
enum class SentencePieceFlavor {
    // transformers' fast tokenizer: control pieces (<s>, </s>, <unk>) are special added tokens,
    // so "<s>" written in the text becomes id 1.
    HuggingFace,
    // libsentencepiece: only user-defined pieces are matched in text ("<s>" is three
    // characters); merges never produce control, unknown or byte pieces; extra whitespace is
    // removed when the model asks for it.
    LibSentencePiece,
};

// The merge list, in rank order.
std::vector<std::pair<std::string, std::string>> sentencepiece_merges(
    const std::vector<SentencePieceEntry>& pieces,
    SentencePieceFlavor flavor = SentencePieceFlavor::HuggingFace);

// The whole tokenizer.json text; `source` names the model in errors (QsError "<source>: ...",
// e.g. for a unigram model, or a LibSentencePiece conversion of a model with a normalization map).
std::string sentencepiece_to_tokenizer_json(const SentencePieceModelProto& model,
                                            SentencePieceFlavor flavor, const std::string& source);

// LlamaConverter's tokenizer.json for the model file at path.
std::string sentencepiece_to_tokenizer_json(const std::string& path);

}  // namespace qs
