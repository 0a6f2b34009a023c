#include "core/tokenizer/sentencepiece_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "core/sentencepiece_shim/sentencepiece_shim.h"
#include "core/util/error.h"

#ifndef QS_SPM_SHIM_BUILD_PATH
#define QS_SPM_SHIM_BUILD_PATH ""
#endif

namespace qs {
namespace {

struct ShimApi {
    decltype(&qs_spm_load) load = nullptr;
    decltype(&qs_spm_free) free = nullptr;
    decltype(&qs_spm_encode) encode = nullptr;
    decltype(&qs_spm_decode) decode = nullptr;
    decltype(&qs_spm_piece_size) piece_size = nullptr;
    decltype(&qs_spm_piece_to_id) piece_to_id = nullptr;
    decltype(&qs_spm_is_control) is_control = nullptr;
    decltype(&qs_spm_unk_id) unk_id = nullptr;
    decltype(&qs_spm_bos_id) bos_id = nullptr;
    decltype(&qs_spm_eos_id) eos_id = nullptr;
    decltype(&qs_spm_id_to_piece) id_to_piece = nullptr;
    std::string error;
};

std::vector<std::string> shim_candidates()
{
    std::vector<std::string> paths;
    if (const char* env = std::getenv("QS_SENTENCEPIECE_SHIM")) paths.emplace_back(env);
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec)
        paths.push_back((exe.parent_path() / "../lib/quantscope/libqs_sentencepiece_shim.so")
                            .lexically_normal()
                            .string());
    if (std::string(QS_SPM_SHIM_BUILD_PATH).size()) paths.emplace_back(QS_SPM_SHIM_BUILD_PATH);
    return paths;
}

const ShimApi& shim()
{
    static ShimApi api;
    static std::once_flag once;
    std::call_once(once, [] {
        void* lib = nullptr;
        std::string tried;
        for (const auto& path : shim_candidates()) {
            tried += (tried.empty() ? "" : ", ") + path;
            if (!std::filesystem::exists(path)) continue;
            lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
            if (lib) break;
            tried += std::string(" (") + ::dlerror() + ")";
        }
        if (!lib) {
            api.error = "libqs_sentencepiece_shim.so not found (tried " + tried + ")";
            return;
        }
        auto sym = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
            if (!fn) api.error = std::string("libqs_sentencepiece_shim.so lacks ") + name;
        };
        sym(api.load, "qs_spm_load");
        sym(api.free, "qs_spm_free");
        sym(api.encode, "qs_spm_encode");
        sym(api.decode, "qs_spm_decode");
        sym(api.piece_size, "qs_spm_piece_size");
        sym(api.piece_to_id, "qs_spm_piece_to_id");
        sym(api.is_control, "qs_spm_is_control");
        sym(api.unk_id, "qs_spm_unk_id");
        sym(api.bos_id, "qs_spm_bos_id");
        sym(api.eos_id, "qs_spm_eos_id");
        sym(api.id_to_piece, "qs_spm_id_to_piece");
    });
    if (!api.error.empty()) throw QsError("sentencepiece: " + api.error);
    return api;
}

}  // namespace

SentencePieceModel::SentencePieceModel(const std::string& path) : m_path(path)
{
    if (!std::filesystem::is_regular_file(path)) fail_file(path, "cannot open");
    const auto& api = shim();
    char error[512] = {0};
    m_handle = api.load(path.c_str(), error, sizeof error);
    if (!m_handle) fail_file(path, std::string("not a SentencePiece model (") + error + ")");
}

SentencePieceModel::~SentencePieceModel()
{
    if (m_handle) shim().free(m_handle);
}

std::vector<int> SentencePieceModel::encode(const std::string& text) const
{
    char error[512] = {0};
    std::vector<int> ids(text.size() + 16);
    int n = shim().encode(m_handle, text.data(), text.size(), ids.data(), int(ids.size()), error,
                          sizeof error);
    if (n > int(ids.size())) {
        ids.resize(n);
        n = shim().encode(m_handle, text.data(), text.size(), ids.data(), n, error, sizeof error);
    }
    if (n < 0) throw QsError(m_path + ": encoding failed (" + error + ")");
    ids.resize(n);
    return ids;
}

std::string SentencePieceModel::decode(const std::vector<int>& ids) const
{
    char error[512] = {0};
    std::string text(ids.size() * 8 + 64, '\0');
    int n = shim().decode(m_handle, ids.data(), int(ids.size()), text.data(), text.size(), error,
                          sizeof error);
    if (n >= 0 && std::size_t(n) >= text.size()) {
        text.assign(std::size_t(n) + 1, '\0');
        n = shim().decode(m_handle, ids.data(), int(ids.size()), text.data(), text.size(), error,
                          sizeof error);
    }
    if (n < 0) throw QsError(m_path + ": decoding failed (" + error + ")");
    text.resize(n);
    return text;
}

int SentencePieceModel::piece_size() const
{
    return shim().piece_size(m_handle);
}
int SentencePieceModel::piece_to_id(const std::string& piece) const
{
    return shim().piece_to_id(m_handle, piece.c_str());
}
bool SentencePieceModel::is_control(int id) const
{
    return shim().is_control(m_handle, id) != 0;
}
int SentencePieceModel::unk_id() const
{
    return shim().unk_id(m_handle);
}
int SentencePieceModel::bos_id() const
{
    return shim().bos_id(m_handle);
}
int SentencePieceModel::eos_id() const
{
    return shim().eos_id(m_handle);
}

std::string SentencePieceModel::id_to_piece(int id) const
{
    std::string piece(64, '\0');
    int n = shim().id_to_piece(m_handle, id, piece.data(), piece.size());
    if (std::size_t(n) >= piece.size()) {
        piece.assign(std::size_t(n) + 1, '\0');
        n = shim().id_to_piece(m_handle, id, piece.data(), piece.size());
    }
    piece.resize(n);
    return piece;
}

}  // namespace qs
