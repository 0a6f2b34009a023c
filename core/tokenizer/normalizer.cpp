// Normalizers; see normalizer.h.
#include "core/tokenizer/normalizer.h"

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tokenizer/nfc_check.h"
#include "core/tokenizer/text_split.h"
#include "core/tokenizer/unicode_regex.h"
#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

namespace {

class PrependNormalizer : public Normalizer {
public:
    explicit PrependNormalizer(std::string prefix) : m_prefix(std::move(prefix)) {}
    void normalize(std::string& text) const override
    {
        // HF leaves empty pieces alone: "" does not become "▁".
        if (!text.empty()) text.insert(0, m_prefix);
    }

private:
    std::string m_prefix;
};

class ReplaceNormalizer : public Normalizer {
public:
    ReplaceNormalizer(std::string literal, std::optional<UnicodeRegex> regex, std::string content)
        : m_literal(std::move(literal)), m_regex(std::move(regex)), m_content(std::move(content))
    {
    }
    void normalize(std::string& text) const override
    {
        const auto matches = m_regex ? m_regex->find_all(text) : find_literal(text, m_literal);
        if (matches.empty()) return;
        std::string out;
        out.reserve(text.size());
        std::size_t prev = 0;
        for (const auto& [begin, end] : matches) {
            out.append(text, prev, begin - prev);
            out += m_content;
            prev = end;
        }
        out.append(text, prev, std::string::npos);
        text = std::move(out);
    }

private:
    std::string m_literal;
    std::optional<UnicodeRegex> m_regex;
    std::string m_content;
};

class StripNormalizer : public Normalizer {
public:
    StripNormalizer(bool left, bool right) : m_left(left), m_right(right) {}
    void normalize(std::string& text) const override
    {
        std::size_t begin = 0, end = text.size();
        if (m_left) {
            while (begin < end) {
                std::size_t next = begin;
                if (!unicode_is_whitespace(utf8_next(text, next))) break;
                begin = next;
            }
        }
        if (m_right) {
            while (end > begin) {
                std::size_t start = end - 1;
                while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
                    --start;
                std::size_t probe = start;
                if (!unicode_is_whitespace(utf8_next(text, probe))) break;
                end = start;
            }
        }
        text = text.substr(begin, end - begin);
    }

private:
    bool m_left, m_right;
};

class NfcNormalizer : public Normalizer {
public:
    void normalize(std::string& text) const override { require_nfc(text); }
};

class SequenceNormalizer : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
        : m_steps(std::move(steps))
    {
    }
    void normalize(std::string& text) const override
    {
        for (const auto& step : m_steps)
            step->normalize(text);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> m_steps;
};

std::string string_field(const nlohmann::json& spec, const char* key, const std::string& file,
                         const std::string& what)
{
    if (!spec.contains(key) || !spec[key].is_string())
        fail_file(file, what + " needs a string '" + key + "'");
    return spec[key].get<std::string>();
}

}  // namespace

std::unique_ptr<Normalizer> parse_normalizer(const nlohmann::json& spec, const std::string& file)
{
    if (spec.is_null()) return nullptr;
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
        fail_file(file, "normalizer without a type");
    const std::string type = spec["type"].get<std::string>();
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Normalizer>> steps;
        if (!spec.contains("normalizers") || !spec["normalizers"].is_array())
            fail_file(file, "normalizer Sequence needs a list 'normalizers'");
        for (const auto& item : spec["normalizers"]) {
            if (auto step = parse_normalizer(item, file)) steps.push_back(std::move(step));
        }
        return std::make_unique<SequenceNormalizer>(std::move(steps));
    }
    if (type == "Prepend")
        return std::make_unique<PrependNormalizer>(
            string_field(spec, "prepend", file, "normalizer Prepend"));
    if (type == "Replace") {
        const auto& pattern = spec.value("pattern", nlohmann::json());
        const std::string content = string_field(spec, "content", file, "normalizer Replace");
        if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string())
            return std::make_unique<ReplaceNormalizer>(pattern["String"].get<std::string>(),
                                                       std::nullopt, content);
        if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
            try {
                return std::make_unique<ReplaceNormalizer>(
                    "", UnicodeRegex(pattern["Regex"].get<std::string>()), content);
            } catch (const QsError& e) {
                fail_file(file, std::string("normalizer Replace: ") + e.what());
            }
        }
        fail_file(file, "normalizer Replace needs a pattern {\"String\": ...} or {\"Regex\": ...}");
    }
    if (type == "Strip")
        return std::make_unique<StripNormalizer>(spec.value("strip_left", true),
                                                 spec.value("strip_right", true));
    if (type == "NFC") return std::make_unique<NfcNormalizer>();
    fail_file(file, "unsupported normalizer type '" + type + "'");
}

}  // namespace qs
