// What the post_processor of tokenizer.json adds around a single sequence: HF applies it when
// encoding with add_special_tokens, and load_tokenizer() reads BOS/EOS from it when
// tokenizer_config.json does not say. Understood: TemplateProcessing ("single": special tokens
// before the sequence are BOS, after it EOS), RobertaProcessing / BertProcessing (cls ... sep),
// ByteLevel (nothing) and Sequence of these. Anything else adds nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace qs {

struct SpecialTokenTemplate {
    std::vector<std::int32_t> prefix;  // ids before the text (BOS is the first)
    std::vector<std::int32_t> suffix;  // ids after the text (EOS is the last)
};

using TokenLookup = std::function<std::optional<std::int32_t>(const std::string&)>;

// Throws QsError "<file>: ..." when the template names a token that has no id.
SpecialTokenTemplate parse_post_processor(const nlohmann::json& spec, const TokenLookup& lookup,
                                          const std::string& file);

}  // namespace qs
