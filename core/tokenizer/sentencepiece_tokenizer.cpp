// libsentencepiece wrapper; see sentencepiece_tokenizer.h.
#include "core/tokenizer/sentencepiece_tokenizer.h"

#include <filesystem>

#include <sentencepiece_processor.h>

#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path)
    : m_path(model_path), m_processor(std::make_unique<sentencepiece::SentencePieceProcessor>())
{
    if (!std::filesystem::is_regular_file(model_path)) fail_file(model_path, "cannot open");
    const auto status = m_processor->Load(model_path);
    if (!status.ok()) fail_file(model_path, "not a SentencePiece model (" + status.ToString() + ")");
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<std::int32_t> SentencePieceTokenizer::encode_raw(const std::string& text) const
{
    utf8_validate(text);
    std::vector<int> ids;
    const auto status = m_processor->Encode(text, &ids);
    if (!status.ok()) throw QsError(m_path + ": encoding failed (" + status.ToString() + ")");
    return {ids.begin(), ids.end()};
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int32_t>& ids, bool skip_special) const
{
    const int size = m_processor->GetPieceSize();
    std::string text;
    std::vector<int> run;  // ordinary ids decoded together so byte pieces and spaces join up
    const auto flush = [&] {
        if (run.empty()) return;
        std::string part;
        const auto status = m_processor->Decode(run, &part);
        if (!status.ok()) throw QsError(m_path + ": decoding failed (" + status.ToString() + ")");
        text += part;
        run.clear();
    };
    for (const std::int32_t id : ids) {
        if (id < 0 || id >= size) continue;  // like HF: ids without a token are dropped
        if (m_processor->IsControl(id)) {
            if (!skip_special) {
                flush();
                text += m_processor->IdToPiece(id);
            }
            continue;
        }
        run.push_back(id);
    }
    flush();
    return text;
}

std::int64_t SentencePieceTokenizer::vocab_size() const { return m_processor->GetPieceSize(); }

std::optional<std::int32_t> SentencePieceTokenizer::token_to_id(const std::string& piece) const
{
    const int id = m_processor->PieceToId(piece);
    // PieceToId answers unk_id for unknown pieces; only the unknown piece itself maps there.
    if (id == m_processor->unk_id() && piece != m_processor->IdToPiece(id)) return std::nullopt;
    return id;
}

std::string SentencePieceTokenizer::id_to_token(std::int32_t id) const
{
    if (id < 0 || id >= m_processor->GetPieceSize()) return {};
    return m_processor->IdToPiece(id);
}

std::int32_t SentencePieceTokenizer::model_bos_id() const { return m_processor->bos_id(); }
std::int32_t SentencePieceTokenizer::model_eos_id() const { return m_processor->eos_id(); }

}  // namespace qs
