#include "app/cli/cli_args.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace qs::cli {
namespace {

constexpr std::size_t kHelpWidth = 100;
constexpr std::size_t kOptionColumn = 28;

std::size_t edit_distance(const std::string& a, const std::string& b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// Words of `text` filled into lines of at most `width` characters after `indent` spaces
// (the first line's indent is the caller's).
std::string wrap(const std::string& text, std::size_t first_column, std::size_t indent)
{
    std::istringstream words(text);
    std::string word, out;
    std::size_t column = first_column;
    bool line_empty = true;
    while (words >> word) {
        if (!line_empty && column + 1 + word.size() > kHelpWidth) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
            line_empty = true;
        }
        if (!line_empty) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        line_empty = false;
    }
    return out;
}

}  // namespace

std::string closest_name(const std::string& word, const std::vector<std::string>& candidates)
{
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        if (!word.empty() && c.rfind(word, 0) == 0) return c;  // a prefix: "--rec" -> "recipe"
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

Args::Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs)
    : m_specs(specs)
{
    std::vector<std::string> names;
    for (const auto& s : specs)
        names.push_back(s.name);
    for (std::size_t i = 0; i < argv.size(); ++i) {
        std::string arg = argv[i];
        if (arg == "-h") arg = "--help";
        if (arg.rfind("--", 0) != 0) {
            std::string hint = "options are written --name VALUE or --name=VALUE";
            for (const auto& s : specs)
                if (i > 0 && argv[i - 1] == "--" + s.name && !s.takes_value)
                    hint = argv[i - 1] + " takes no value";
            throw UsageError("unexpected argument '" + arg + "' (" + hint + ")");
        }
        std::string name = arg.substr(2), value;
        auto eq = name.find('=');
        bool inline_value = eq != std::string::npos;
        if (inline_value) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs)
            if (s.name == name) spec = &s;
        if (!spec) {
            const std::string near = closest_name(name, names);
            throw UsageError("unknown option '--" + name + "'" +
                             (near.empty() ? "" : " (did you mean --" + near + "?)"));
        }
        if (spec->takes_value && !inline_value) {
            if (i + 1 >= argv.size())
                throw UsageError("option --" + name + " needs a value: --" + name + " " +
                                 spec->value_name);
            value = argv[++i];
        }
        if (!spec->takes_value && inline_value)
            throw UsageError("option --" + name + " takes no value");
        m_values[name] = spec->takes_value ? value : "1";
    }
}

std::string Args::get(const std::string& name) const
{
    auto it = m_values.find(name);
    if (it != m_values.end()) return it->second;
    std::string placeholder = "VALUE";
    for (const auto& s : m_specs)
        if (s.name == name) placeholder = s.value_name;
    throw UsageError("missing required option --" + name + " " + placeholder);
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const
{
    return has(name) ? get(name) : fallback;
}

long long Args::get_int(const std::string& name, long long fallback) const
{
    if (!has(name)) return fallback;
    const std::string text = get(name);
    try {
        std::size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
        return v;
    } catch (const std::exception&) {
        throw UsageError("option --" + name + " expects an integer, got '" + text + "'");
    }
}

double Args::get_double(const std::string& name, double fallback) const
{
    if (!has(name)) return fallback;
    const std::string text = get(name);
    try {
        std::size_t used = 0;
        double v = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
        return v;
    } catch (const std::exception&) {
        throw UsageError("option --" + name + " expects a number, got '" + text + "'");
    }
}

std::string format_options(const std::vector<OptionSpec>& specs)
{
    std::string out;
    for (const auto& s : specs) {
        std::string left = "  --" + s.name + (s.takes_value ? " " + s.value_name : "");
        if (left.size() + 1 > kOptionColumn) {
            out += left + "\n";
            left.clear();
        }
        left.resize(kOptionColumn, ' ');
        out += left + wrap(s.help, kOptionColumn, kOptionColumn) + "\n";
    }
    return out;
}

std::string format_help(const CommandHelp& help, const std::vector<OptionSpec>& specs)
{
    std::string out;
    for (std::size_t i = 0; i < help.usage.size(); ++i)
        out += (i == 0 ? "usage: " : "       ") + help.usage[i] + "\n";
    out += "\n" + wrap(help.summary, 0, 0) + "\n";
    if (!help.details.empty())
        out += "\n" + help.details + (help.details.back() == '\n' ? "" : "\n");
    out += "\noptions:\n" + format_options(specs);
    if (!help.examples.empty()) {
        out += help.examples.size() == 1 ? "\nexample:\n" : "\nexamples:\n";
        for (const auto& e : help.examples)
            out += "  " + e + "\n";
    }
    return out;
}

}  // namespace qs::cli
