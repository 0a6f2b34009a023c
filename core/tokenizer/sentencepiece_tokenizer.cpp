// SentencePiece tokenizer over libsentencepiece or the native engine; see
// sentencepiece_tokenizer.h.
#include "core/tokenizer/sentencepiece_tokenizer.h"

#include <filesystem>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/sentencepiece_convert.h"
#include "core/tokenizer/sentencepiece_library.h"
#include "core/tokenizer/sentencepiece_model_proto.h"
#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

namespace {

// SentencePieceModel reports a shim it cannot load as "sentencepiece: ..."; model errors name
// the model file instead.
bool shim_unavailable(const QsError& e)
{
    return std::string_view(e.what()).starts_with("sentencepiece: ");
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path, Engine engine)
    : m_path(model_path)
{
    if (!std::filesystem::is_regular_file(model_path)) fail_file(model_path, "cannot open");
    if (engine != Engine::Native) {
        try {
            m_library = std::make_unique<SentencePieceModel>(model_path);
        } catch (const QsError& e) {
            if (engine == Engine::LibSentencePiece || !shim_unavailable(e)) throw;
        }
    }
    if (m_library) {
        const int size = m_library->piece_size();
        m_is_control.resize(static_cast<std::size_t>(size));
        for (int id = 0; id < size; ++id)
            m_is_control[static_cast<std::size_t>(id)] = m_library->is_control(id);
        m_model_bos = m_library->bos_id();
        m_model_eos = m_library->eos_id();
        return;
    }
    const SentencePieceModelProto model = read_sentencepiece_proto(model_path);
    m_native = BpeTokenizer::from_json(
        sentencepiece_to_tokenizer_json(model, SentencePieceFlavor::LibSentencePiece, model_path),
        model_path);
    for (const SentencePieceEntry& p : model.pieces)
        m_is_control.push_back(p.type == SentencePieceType::Control);
    const auto valid = [&](std::int32_t id) {
        return id >= 0 && static_cast<std::size_t>(id) < model.pieces.size() ? id : -1;
    };
    m_model_bos = valid(model.bos_id);
    m_model_eos = valid(model.eos_id);
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

bool SentencePieceTokenizer::is_control(std::int32_t id) const
{
    return id >= 0 && static_cast<std::size_t>(id) < m_is_control.size() &&
           m_is_control[static_cast<std::size_t>(id)];
}

std::vector<std::int32_t> SentencePieceTokenizer::encode_raw(const std::string& text) const
{
    utf8_validate(text);
    if (m_native) return m_native->encode_raw(text);
    const std::vector<int> ids = m_library->encode(text);
    return {ids.begin(), ids.end()};
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int32_t>& ids,
                                           bool skip_special) const
{
    std::string text;
    std::vector<int> run;  // ids decoded together, so byte pieces and spaces join up
    const auto flush = [&] {
        if (run.empty()) return;
        text +=
            m_native ? m_native->decode({run.begin(), run.end()}, false) : m_library->decode(run);
        run.clear();
    };
    for (const std::int32_t id : ids) {
        if (id < 0 || id >= vocab_size()) continue;  // like HF: ids without a token are dropped
        if (is_control(id)) {
            if (!skip_special) {
                flush();
                text += id_to_token(id);
            }
            continue;
        }
        run.push_back(id);
    }
    flush();
    return text;
}

std::int64_t SentencePieceTokenizer::vocab_size() const
{
    return m_native ? m_native->vocab_size() : m_library->piece_size();
}

std::optional<std::int32_t> SentencePieceTokenizer::token_to_id(const std::string& piece) const
{
    if (m_native) return m_native->token_to_id(piece);
    const int id = m_library->piece_to_id(piece);
    // piece_to_id answers unk_id for unknown pieces; only the unknown piece itself maps there.
    if (id == m_library->unk_id() && piece != m_library->id_to_piece(id)) return std::nullopt;
    return id;
}

std::string SentencePieceTokenizer::id_to_token(std::int32_t id) const
{
    if (id < 0 || id >= vocab_size()) return {};
    return m_native ? m_native->id_to_token(id) : m_library->id_to_piece(id);
}

}  // namespace qs
