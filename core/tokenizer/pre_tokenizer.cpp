// Pre-tokenizers; see pre_tokenizer.h. Every splitting step goes through split_ranges() so the
// behaviours match HF's NormalizedString::split.
#include "core/tokenizer/pre_tokenizer.h"

#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/text_split.h"
#include "core/tokenizer/unicode_regex.h"
#include "core/util/error.h"

namespace qs {

namespace {

using FindMatches = std::function<std::vector<ByteRange>(std::string_view)>;

void split_pieces(std::vector<PreToken>& pieces, const FindMatches& find, bool invert,
                  SplitBehavior behavior)
{
    std::vector<PreToken> out;
    out.reserve(pieces.size());
    for (const PreToken& piece : pieces) {
        for (const auto& [begin, end] :
             split_ranges(piece.text.size(), find(piece.text), invert, behavior))
            out.push_back({piece.text.substr(begin, end - begin), piece.at_start && begin == 0});
    }
    pieces = std::move(out);
}

FindMatches regex_matcher(const std::string& pattern, const std::string& file)
{
    try {
        auto regex = std::make_shared<UnicodeRegex>(pattern);
        return [regex](std::string_view text) { return regex->find_all(text); };
    } catch (const QsError& e) {
        fail_file(file, std::string("pre_tokenizer: ") + e.what());
    }
}

FindMatches literal_matcher(std::string needle)
{
    return
        [needle = std::move(needle)](std::string_view text) { return find_literal(text, needle); };
}

// A pre-tokenizer that is one split step (Split, Digits, Punctuation, Whitespace, ...).
class SplitPreTokenizer : public PreTokenizer {
public:
    SplitPreTokenizer(FindMatches find, SplitBehavior behavior, bool invert)
        : m_find(std::move(find)), m_behavior(behavior), m_invert(invert)
    {
    }
    void pre_tokenize(std::vector<PreToken>& pieces) const override
    {
        split_pieces(pieces, m_find, m_invert, m_behavior);
    }

private:
    FindMatches m_find;
    SplitBehavior m_behavior;
    bool m_invert;
};

class ByteLevelPreTokenizer : public PreTokenizer {
public:
    ByteLevelPreTokenizer(bool add_prefix_space, std::optional<FindMatches> split)
        : m_add_prefix_space(add_prefix_space), m_split(std::move(split))
    {
    }
    void pre_tokenize(std::vector<PreToken>& pieces) const override
    {
        // HF adds the space to every piece it sees, not only the first.
        if (m_add_prefix_space) {
            for (PreToken& p : pieces)
                if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, " ");
        }
        if (m_split) split_pieces(pieces, *m_split, false, SplitBehavior::Isolated);
        for (PreToken& p : pieces)
            p.text = byte_level_encode(p.text);
    }

private:
    bool m_add_prefix_space;
    std::optional<FindMatches> m_split;
};

enum class PrependScheme { First, Always, Never };

class MetaspacePreTokenizer : public PreTokenizer {
public:
    MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
        : m_replacement(std::move(replacement)), m_scheme(scheme), m_split(split)
    {
    }
    void pre_tokenize(std::vector<PreToken>& pieces) const override
    {
        for (PreToken& p : pieces) {
            std::string replaced;
            replaced.reserve(p.text.size() + m_replacement.size());
            for (const char c : p.text) {
                if (c == ' ')
                    replaced += m_replacement;
                else
                    replaced.push_back(c);
            }
            const bool has = replaced.starts_with(m_replacement);
            if (!has && (m_scheme == PrependScheme::Always ||
                         (m_scheme == PrependScheme::First && p.at_start)))
                replaced.insert(0, m_replacement);
            p.text = std::move(replaced);
        }
        if (m_split)
            split_pieces(pieces, literal_matcher(m_replacement), false,
                         SplitBehavior::MergedWithNext);
    }

private:
    std::string m_replacement;
    PrependScheme m_scheme;
    bool m_split;
};

class SequencePreTokenizer : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
        : m_steps(std::move(steps))
    {
    }
    void pre_tokenize(std::vector<PreToken>& pieces) const override
    {
        for (const auto& step : m_steps)
            step->pre_tokenize(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> m_steps;
};

// Rust's char::is_ascii_punctuation or a Unicode P* category (HF's is_punc / is_bert_punc).
constexpr const char* kPunctuationRegex = R"([\p{P}!-\/:-@\[-`{-~])";

SplitBehavior parse_behavior(const nlohmann::json& spec, const std::string& file,
                             SplitBehavior fallback)
{
    if (!spec.contains("behavior")) return fallback;
    const std::string name =
        spec["behavior"].is_string() ? spec["behavior"].get<std::string>() : "";
    if (name == "Removed") return SplitBehavior::Removed;
    if (name == "Isolated") return SplitBehavior::Isolated;
    if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (name == "Contiguous") return SplitBehavior::Contiguous;
    fail_file(file, "unknown split behavior '" + name + "'");
}

std::unique_ptr<PreTokenizer> parse_split(const nlohmann::json& spec, const std::string& file)
{
    const auto& pattern = spec.value("pattern", nlohmann::json());
    const SplitBehavior behavior = parse_behavior(spec, file, SplitBehavior::Isolated);
    const bool invert = spec.value("invert", false);
    if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string())
        return std::make_unique<SplitPreTokenizer>(
            regex_matcher(pattern["Regex"].get<std::string>(), file), behavior, invert);
    if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string())
        return std::make_unique<SplitPreTokenizer>(
            literal_matcher(pattern["String"].get<std::string>()), behavior, invert);
    fail_file(file, "pre_tokenizer Split needs a pattern {\"String\": ...} or {\"Regex\": ...}");
}

std::unique_ptr<PreTokenizer> parse_metaspace(const nlohmann::json& spec, const std::string& file)
{
    const std::string replacement = spec.value("replacement", std::string("\xE2\x96\x81"));
    PrependScheme scheme = PrependScheme::Always;
    if (spec.contains("prepend_scheme") && spec["prepend_scheme"].is_string()) {
        const std::string name = spec["prepend_scheme"].get<std::string>();
        if (name == "first")
            scheme = PrependScheme::First;
        else if (name == "never")
            scheme = PrependScheme::Never;
        else if (name != "always")
            fail_file(file, "unknown Metaspace prepend_scheme '" + name + "'");
    } else if (spec.contains("add_prefix_space")) {
        // Files written before prepend_scheme existed.
        scheme =
            spec.value("add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, spec.value("split", true));
}

}  // namespace

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const nlohmann::json& spec,
                                                  const std::string& file)
{
    if (spec.is_null()) return nullptr;
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
        fail_file(file, "pre_tokenizer without a type");
    const std::string type = spec["type"].get<std::string>();
    if (type == "Sequence") {
        if (!spec.contains("pretokenizers") || !spec["pretokenizers"].is_array())
            fail_file(file, "pre_tokenizer Sequence needs a list 'pretokenizers'");
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (const auto& item : spec["pretokenizers"])
            if (auto step = parse_pre_tokenizer(item, file)) steps.push_back(std::move(step));
        return std::make_unique<SequencePreTokenizer>(std::move(steps));
    }
    if (type == "ByteLevel") {
        std::optional<FindMatches> split;
        if (spec.value("use_regex", true)) split = regex_matcher(kGpt2SplitRegex, file);
        return std::make_unique<ByteLevelPreTokenizer>(spec.value("add_prefix_space", true), split);
    }
    if (type == "Split") return parse_split(spec, file);
    if (type == "Metaspace") return parse_metaspace(spec, file);
    if (type == "Digits") {
        const auto behavior = spec.value("individual_digits", false) ? SplitBehavior::Isolated
                                                                     : SplitBehavior::Contiguous;
        return std::make_unique<SplitPreTokenizer>(regex_matcher(R"(\p{N})", file), behavior,
                                                   false);
    }
    if (type == "Punctuation")
        return std::make_unique<SplitPreTokenizer>(
            regex_matcher(kPunctuationRegex, file),
            parse_behavior(spec, file, SplitBehavior::Isolated), false);
    if (type == "Whitespace")
        return std::make_unique<SplitPreTokenizer>(regex_matcher(R"(\w+|[^\w\s]+)", file),
                                                   SplitBehavior::Removed, true);
    if (type == "WhitespaceSplit")
        return std::make_unique<SplitPreTokenizer>(regex_matcher(R"(\s)", file),
                                                   SplitBehavior::Removed, false);
    if (type == "CharDelimiterSplit") {
        if (!spec.contains("delimiter") || !spec["delimiter"].is_string())
            fail_file(file, "pre_tokenizer CharDelimiterSplit needs a 'delimiter'");
        return std::make_unique<SplitPreTokenizer>(
            literal_matcher(spec["delimiter"].get<std::string>()), SplitBehavior::Removed, false);
    }
    if (type == "BertPreTokenizer") {
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        steps.push_back(std::make_unique<SplitPreTokenizer>(regex_matcher(R"(\s)", file),
                                                            SplitBehavior::Removed, false));
        steps.push_back(std::make_unique<SplitPreTokenizer>(regex_matcher(kPunctuationRegex, file),
                                                            SplitBehavior::Isolated, false));
        return std::make_unique<SequencePreTokenizer>(std::move(steps));
    }
    fail_file(file, "unsupported pre_tokenizer type '" + type + "'");
}

}  // namespace qs
