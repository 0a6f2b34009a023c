// libsentencepiece, reached through libqs_sentencepiece_shim.so loaded with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND) so its bundled protobuf never meets libtorch's (see
// core/sentencepiece_shim/sentencepiece_shim.cpp). The shim is looked up in $QS_SENTENCEPIECE_SHIM,
// next to the executable's ../lib/quantscope/, then in the build tree.
#pragma once

#include <string>
#include <vector>

namespace qs {

class SentencePieceModel {
public:
    // Throws QsError "<path>: <problem>".
    explicit SentencePieceModel(const std::string& path);
    ~SentencePieceModel();
    SentencePieceModel(const SentencePieceModel&) = delete;
    SentencePieceModel& operator=(const SentencePieceModel&) = delete;

    std::vector<int> encode(const std::string& text) const;
    std::string decode(const std::vector<int>& ids) const;
    int piece_size() const;
    int piece_to_id(const std::string& piece) const;
    std::string id_to_piece(int id) const;
    bool is_control(int id) const;
    int unk_id() const;
    int bos_id() const;
    int eos_id() const;

private:
    std::string m_path;
    void* m_handle = nullptr;
};

}  // namespace qs
