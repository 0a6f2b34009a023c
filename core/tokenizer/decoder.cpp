// Decoders; see decoder.h. Each decode_chain is transcribed from the HF decoder of that name,
// quirks included (Metaspace drops every replacement char of the first token, ByteFallback
// turns an invalid byte run into one U+FFFD per byte).
#include "core/tokenizer/decoder.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/text_split.h"
#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

namespace {

const std::string kReplacementChar = "\xEF\xBF\xBD";

std::string replace_all(const std::string& text, const std::string& from, const std::string& to)
{
    const auto matches = find_literal(text, from);
    if (matches.empty()) return text;
    std::string out;
    std::size_t prev = 0;
    for (const auto& [begin, end] : matches) {
        out.append(text, prev, begin - prev);
        out += to;
        prev = end;
    }
    out.append(text, prev, std::string::npos);
    return out;
}

class ByteLevelDecoder : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        std::string bytes;
        for (const std::string& t : tokens) {
            // A token with a character outside the byte alphabet (an added token such as
            // "<|endoftext|>" is inside it, but "é" is not) keeps its own bytes.
            if (!byte_level_decode_token(t, bytes)) bytes += t;
        }
        tokens.assign(1, utf8_lossy(bytes));
    }
};

class MetaspaceDecoder : public Decoder {
public:
    MetaspaceDecoder(std::string replacement, bool prepend)
        : m_replacement(std::move(replacement)), m_prepend(prepend)
    {
    }
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        for (std::size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = replace_all(tokens[i], m_replacement, i == 0 && m_prepend ? "" : " ");
    }

private:
    std::string m_replacement;
    bool m_prepend;
};

class ReplaceDecoder : public Decoder {
public:
    ReplaceDecoder(std::string from, std::string to) : m_from(std::move(from)), m_to(std::move(to))
    {
    }
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        for (std::string& t : tokens)
            t = replace_all(t, m_from, m_to);
    }

private:
    std::string m_from, m_to;
};

class ByteFallbackDecoder : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        std::vector<std::string> out;
        std::string pending;  // bytes of consecutive <0xXX> tokens
        const auto flush = [&] {
            if (pending.empty()) return;
            if (utf8_first_invalid(pending) == std::string::npos)
                out.push_back(pending);
            else
                out.insert(out.end(), pending.size(), kReplacementChar);
            pending.clear();
        };
        for (std::string& t : tokens) {
            if (t.size() == 6 && t.starts_with("<0x") && t.back() == '>' && is_hex(t[3]) &&
                is_hex(t[4])) {
                pending.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
            } else {
                flush();
                out.push_back(std::move(t));
            }
        }
        flush();
        tokens = std::move(out);
    }

private:
    static bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
};

class FuseDecoder : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        std::string joined;
        for (const std::string& t : tokens)
            joined += t;
        tokens.assign(1, std::move(joined));
    }
};

class StripDecoder : public Decoder {
public:
    StripDecoder(std::string content, std::size_t start, std::size_t stop)
        : m_content(std::move(content)), m_start(start), m_stop(stop)
    {
    }
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        for (std::string& t : tokens) {
            std::size_t begin = 0, end = t.size();
            for (std::size_t i = 0;
                 i < m_start && t.compare(begin, m_content.size(), m_content) == 0 &&
                 begin + m_content.size() <= end;
                 ++i)
                begin += m_content.size();
            for (std::size_t i = 0;
                 i < m_stop && end >= begin + m_content.size() &&
                 t.compare(end - m_content.size(), m_content.size(), m_content) == 0;
                 ++i)
                end -= m_content.size();
            t = t.substr(begin, end - begin);
        }
    }

private:
    std::string m_content;
    std::size_t m_start, m_stop;
};

class BpeSuffixDecoder : public Decoder {
public:
    explicit BpeSuffixDecoder(std::string suffix) : m_suffix(std::move(suffix)) {}
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        for (std::size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = replace_all(tokens[i], m_suffix, i + 1 == tokens.size() ? "" : " ");
    }

private:
    std::string m_suffix;
};

class SequenceDecoder : public Decoder {
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
        : m_steps(std::move(steps))
    {
    }
    void decode_chain(std::vector<std::string>& tokens) const override
    {
        for (const auto& step : m_steps)
            step->decode_chain(tokens);
    }

private:
    std::vector<std::unique_ptr<Decoder>> m_steps;
};

}  // namespace

std::unique_ptr<Decoder> parse_decoder(const nlohmann::json& spec, const std::string& file)
{
    if (spec.is_null()) return nullptr;
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
        fail_file(file, "decoder without a type");
    const std::string type = spec["type"].get<std::string>();
    if (type == "Sequence") {
        if (!spec.contains("decoders") || !spec["decoders"].is_array())
            fail_file(file, "decoder Sequence needs a list 'decoders'");
        std::vector<std::unique_ptr<Decoder>> steps;
        for (const auto& item : spec["decoders"])
            if (auto step = parse_decoder(item, file)) steps.push_back(std::move(step));
        return std::make_unique<SequenceDecoder>(std::move(steps));
    }
    if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
    if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse") return std::make_unique<FuseDecoder>();
    if (type == "Metaspace") {
        bool prepend = true;
        if (spec.contains("prepend_scheme") && spec["prepend_scheme"].is_string())
            prepend = spec["prepend_scheme"].get<std::string>() != "never";
        else if (spec.contains("add_prefix_space"))
            prepend = spec.value("add_prefix_space", true);
        return std::make_unique<MetaspaceDecoder>(
            spec.value("replacement", std::string("\xE2\x96\x81")), prepend);
    }
    if (type == "Replace") {
        const auto& pattern = spec.value("pattern", nlohmann::json());
        if (!pattern.is_object() || !pattern.contains("String") || !pattern["String"].is_string() ||
            !spec.contains("content") || !spec["content"].is_string())
            fail_file(file, "decoder Replace needs a pattern {\"String\": ...} and a 'content'");
        return std::make_unique<ReplaceDecoder>(pattern["String"].get<std::string>(),
                                                spec["content"].get<std::string>());
    }
    if (type == "Strip") {
        if (!spec.contains("content") || !spec["content"].is_string())
            fail_file(file, "decoder Strip needs a 'content'");
        return std::make_unique<StripDecoder>(spec["content"].get<std::string>(),
                                              spec.value("start", 0), spec.value("stop", 0));
    }
    if (type == "BPEDecoder")
        return std::make_unique<BpeSuffixDecoder>(spec.value("suffix", std::string("</w>")));
    fail_file(file, "unsupported decoder type '" + type + "'");
}

std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens)
{
    std::string text;
    if (decoder) {
        decoder->decode_chain(tokens);
        for (const std::string& t : tokens)
            text += t;
    } else {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            if (i > 0) text += ' ';
            text += tokens[i];
        }
    }
    return utf8_lossy(text);
}

}  // namespace qs
