// A compiled PCRE2 regex in UTF + UCP mode (\p{L}, \s, \w are Unicode-aware), standing in for
// the Oniguruma regexes of HF `tokenizers`: the GPT-2, Llama-3 and Qwen2 split patterns use only
// syntax both engines read the same way. PCRE2 stays out of this header.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pcre2_real_code_8;

namespace qs {

class UnicodeRegex {
public:
    // Throws QsError "bad regex '<pattern>': <reason>" (callers prefix the file name).
    explicit UnicodeRegex(const std::string& pattern);

    // Non-empty matches, left to right and non-overlapping, as [begin, end) byte offsets. text
    // must be valid UTF-8 (not re-checked: callers validate once per input).
    std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

    const std::string& pattern() const { return m_pattern; }

private:
    std::string m_pattern;
    std::shared_ptr<pcre2_real_code_8> m_code;  // shared: immutable, and tokenizers are copied
};

}  // namespace qs
