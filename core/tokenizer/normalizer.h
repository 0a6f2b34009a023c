// Normalizers of tokenizer.json ("normalizer" key), applied in place to each piece of text that
// is not an added token, exactly where HF `tokenizers` applies them. Supported: Prepend,
// Replace (String or Regex pattern), Strip, Sequence, and NFC for text that is already in NFC
// form (see nfc_check.h); any other type is a load error naming the file.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace qs {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void normalize(std::string& text) const = 0;
};

// nullptr for a JSON null. Throws QsError "<file>: ..." on unknown or malformed entries.
std::unique_ptr<Normalizer> parse_normalizer(const nlohmann::json& spec, const std::string& file);

}  // namespace qs
