// SentencePiece BPE model (tokenizer.model) -> tokenizer.json, the conversion transformers'
// LlamaConverter performs (legacy mode) when it builds a "fast" tokenizer for Llama-2, Mistral
// or TinyLlama: vocabulary = the pieces by id; merges = for every piece, each split into two
// pieces that are both in the vocabulary, ranked by the merged piece's score, highest first
// (ties: longer left part, then longer right part, then piece order); byte_fallback on the
// <0xXX> pieces; normalizer Prepend("▁") + Replace(" " -> "▁"); decoder Replace, ByteFallback,
// Fuse, Strip. Our BpeTokenizer run on the result must give libsentencepiece's ids, which is
// how the tests check the BPE engine against an independent implementation.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace qs {

// SentencePiece piece types (sentencepiece_model.proto).
enum class SentencePieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct SentencePieceEntry {
    std::string piece;
    float score = 0.0f;
    SentencePieceType type = SentencePieceType::Normal;
};

struct SentencePieceModel {
    std::vector<SentencePieceEntry> pieces;  // index = id
    int model_type = 1;                      // 1 unigram, 2 BPE, 3 word, 4 char
    bool add_dummy_prefix = true;
    bool remove_extra_whitespaces = true;
};

// Reads the protobuf directly (only the fields above). Throws QsError "<path>: <problem>".
SentencePieceModel read_sentencepiece_model(const std::string& path);

// LlamaConverter's merge list for these pieces (scores of ids 0-2 taken as 0, as it does).
std::vector<std::pair<std::string, std::string>> sentencepiece_merges(const std::vector<SentencePieceEntry>& pieces);

// The whole tokenizer.json text. Throws QsError "<path>: ..." for a non-BPE model.
std::string sentencepiece_to_tokenizer_json(const std::string& path);

}  // namespace qs
