// libqs_sentencepiece_shim.so: a C interface over libsentencepiece, loaded by qs_core with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND). Debian's libsentencepiece carries its own protobuf 3.14
// (exported), while libtorch links libprotobuf 3.21: linked into one process the two interpose
// each other's symbols and either libtorch crashes at start-up or sentencepiece aborts on a
// version check. Behind this shim each keeps its own copy. Nothing here includes libtorch.
#include <cstring>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>

#include "core/sentencepiece_shim/sentencepiece_shim.h"

namespace {

void set_error(char* error, std::size_t capacity, const std::string& message)
{
    if (!error || capacity == 0) return;
    std::strncpy(error, message.c_str(), capacity - 1);
    error[capacity - 1] = '\0';
}

sentencepiece::SentencePieceProcessor* sp(void* handle)
{
    return static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

}  // namespace

extern "C" {

void* qs_spm_load(const char* path, char* error, std::size_t capacity)
{
    auto* processor = new sentencepiece::SentencePieceProcessor();
    const auto status = processor->Load(path);
    if (!status.ok()) {
        set_error(error, capacity, status.ToString());
        delete processor;
        return nullptr;
    }
    return processor;
}

void qs_spm_free(void* handle)
{
    delete sp(handle);
}

int qs_spm_encode(void* handle, const char* text, std::size_t length, int* ids, int capacity,
                  char* error, std::size_t error_capacity)
{
    std::vector<int> out;
    const auto status = sp(handle)->Encode(std::string(text, length), &out);
    if (!status.ok()) {
        set_error(error, error_capacity, status.ToString());
        return -1;
    }
    const int n = static_cast<int>(out.size());
    if (n <= capacity) std::memcpy(ids, out.data(), sizeof(int) * out.size());
    return n;  // caller retries with a larger buffer when n > capacity
}

int qs_spm_decode(void* handle, const int* ids, int count, char* text, std::size_t capacity,
                  char* error, std::size_t error_capacity)
{
    std::string out;
    const auto status = sp(handle)->Decode(std::vector<int>(ids, ids + count), &out);
    if (!status.ok()) {
        set_error(error, error_capacity, status.ToString());
        return -1;
    }
    if (out.size() < capacity) std::memcpy(text, out.c_str(), out.size() + 1);
    return static_cast<int>(out.size());
}

int qs_spm_piece_size(void* handle)
{
    return sp(handle)->GetPieceSize();
}
int qs_spm_piece_to_id(void* handle, const char* piece)
{
    return sp(handle)->PieceToId(piece);
}
int qs_spm_is_control(void* handle, int id)
{
    return sp(handle)->IsControl(id) ? 1 : 0;
}
int qs_spm_unk_id(void* handle)
{
    return sp(handle)->unk_id();
}
int qs_spm_bos_id(void* handle)
{
    return sp(handle)->bos_id();
}
int qs_spm_eos_id(void* handle)
{
    return sp(handle)->eos_id();
}

int qs_spm_id_to_piece(void* handle, int id, char* piece, std::size_t capacity)
{
    const std::string& p = sp(handle)->IdToPiece(id);
    if (p.size() < capacity) std::memcpy(piece, p.c_str(), p.size() + 1);
    return static_cast<int>(p.size());
}

}  // extern "C"
