#include "core/eval/dataset_text.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/util/error.h"

namespace qs {
namespace {

// Index of the first byte that is not part of valid UTF-8, or npos.
std::size_t first_invalid_utf8(const std::string& s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
        if (len == 0 || i + len > s.size()) return i;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i;
        if (len == 2 && c < 0xC2) return i;  // overlong
        i += len;
    }
    return std::string::npos;
}

bool is_blank(const std::string& line)
{
    return line.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

std::string strip(const std::string& line)
{
    auto b = line.find_first_not_of(" \t\r\n\f\v");
    if (b == std::string::npos) return "";
    auto e = line.find_last_not_of(" \t\r\n\f\v");
    return line.substr(b, e - b + 1);
}

}  // namespace

TextProtocol text_protocol_from_name(const std::string& name)
{
    if (name == "auto") return TextProtocol::Auto;
    if (name == "wikitext") return TextProtocol::Wikitext;
    if (name == "ptb") return TextProtocol::Ptb;
    if (name == "plain") return TextProtocol::Plain;
    throw QsError("unknown text protocol '" + name + "' (use auto, wikitext, ptb or plain)");
}

std::string load_eval_text(const std::string& path, TextProtocol protocol)
{
    if (!std::filesystem::is_regular_file(path)) fail_file(path, "no such file");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_file(path, "cannot open");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string raw = buffer.str();
    if (raw.empty()) fail_file(path, "dataset is empty");
    if (auto bad = first_invalid_utf8(raw); bad != std::string::npos)
        fail_file(path, "not UTF-8 text (invalid byte at offset " + std::to_string(bad) + ")");

    if (protocol == TextProtocol::Auto) {
        auto name = std::filesystem::path(path).filename().string();
        protocol =
            name.find("ptb") != std::string::npos ? TextProtocol::Ptb : TextProtocol::Wikitext;
    }
    if (protocol == TextProtocol::Plain) return raw;

    std::string joined;
    std::size_t start = 0;
    bool first = true;
    const std::string separator = protocol == TextProtocol::Ptb ? " " : "\n\n";
    while (start < raw.size()) {
        auto end = raw.find('\n', start);
        std::string line =
            raw.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
        start = end == std::string::npos ? raw.size() : end + 1;
        std::string row =
            protocol == TextProtocol::Ptb ? strip(line) : (is_blank(line) ? "" : line);
        if (!first) joined += separator;
        joined += row;
        first = false;
    }
    if (is_blank(joined)) fail_file(path, "dataset holds no text");
    return joined;
}

}  // namespace qs
