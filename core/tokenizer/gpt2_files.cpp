// vocab.json + merges.txt conversion; see gpt2_files.h.
#include "core/tokenizer/gpt2_files.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace qs {

std::string gpt2_files_to_tokenizer_json(const std::string& vocab_json_path,
                                         const std::string& merges_txt_path, bool add_prefix_space,
                                         const std::vector<std::string>& special_tokens)
{
    using Json = nlohmann::json;
    std::ifstream vocab_in(vocab_json_path, std::ios::binary);
    if (!vocab_in) fail_file(vocab_json_path, "cannot open");
    Json vocab;
    try {
        vocab = Json::parse(vocab_in);
    } catch (const Json::exception& e) {
        fail_file(vocab_json_path, std::string("not valid JSON: ") + e.what());
    }
    if (!vocab.is_object()) fail_file(vocab_json_path, "not a {token: id} object");

    std::ifstream merges_in(merges_txt_path, std::ios::binary);
    if (!merges_in) fail_file(merges_txt_path, "cannot open");
    Json merges = Json::array();
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(merges_in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        // HF's reader skips the "#version" header and blank lines.
        if (line.empty() || line.starts_with("#version")) continue;
        const std::size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
            fail_file(merges_txt_path,
                      "line " + std::to_string(line_no) + " is not \"left right\"");
        merges.push_back({line.substr(0, space), line.substr(space + 1)});
    }

    Json added = Json::array();
    for (const std::string& token : special_tokens) {
        if (!vocab.contains(token)) continue;
        bool seen = false;
        for (const Json& a : added)
            seen = seen || a["content"] == token;
        if (seen) continue;
        added.push_back({{"id", vocab[token]},
                         {"content", token},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    }
    const Json byte_level = {{"type", "ByteLevel"},
                             {"add_prefix_space", add_prefix_space},
                             {"trim_offsets", true},
                             {"use_regex", true}};
    const Json doc = {{"version", "1.0"},
                      {"added_tokens", added},
                      {"normalizer", nullptr},
                      {"pre_tokenizer", byte_level},
                      {"post_processor", {{"type", "ByteLevel"}, {"trim_offsets", false}}},
                      {"decoder", byte_level},
                      {"model",
                       {{"type", "BPE"},
                        {"unk_token", nullptr},
                        {"fuse_unk", false},
                        {"byte_fallback", false},
                        {"vocab", vocab},
                        {"merges", merges}}}};
    return doc.dump();
}

}  // namespace qs
