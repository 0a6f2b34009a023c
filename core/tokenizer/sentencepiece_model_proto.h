// The parts of a SentencePiece model file (tokenizer.model, a ModelProto protobuf) that
// tokenization needs: the pieces with their scores and types, the model type, the special ids
// and the whitespace options. Read by hand (varints and length-delimited fields): the generated
// protobuf classes are not installed, libsentencepiece's API does not tell user-defined pieces
// apart, and libsentencepiece is only reachable through its shim (sentencepiece_library.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

// sentencepiece_model.proto's SentencePiece.Type.
enum class SentencePieceType {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6
};

struct SentencePieceEntry {
    std::string piece;
    float score = 0.0f;
    SentencePieceType type = SentencePieceType::Normal;
};

struct SentencePieceModelProto {
    std::vector<SentencePieceEntry> pieces;  // index = id
    int model_type = 1;  // TrainerSpec.model_type: 1 unigram, 2 BPE, 3 word, 4 char
    std::int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;  // TrainerSpec, -1 = none
    bool add_dummy_prefix = true;          // NormalizerSpec: prepend "▁" to the text
    bool remove_extra_whitespaces = true;  // NormalizerSpec: trim and collapse spaces
    std::string normalizer_name;           // NormalizerSpec.name ("identity" for Llama)
    bool has_charsmap = false;             // a precompiled normalization map (nmt_nfkc, ...)
};

// Throws QsError "<path>: <problem>" for a missing file or a malformed protobuf.
SentencePieceModelProto read_sentencepiece_proto(const std::string& path);

}  // namespace qs
