#include "app/cli/cli_args.h"

#include <stdexcept>

namespace qs::cli {

Args::Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs)
{
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
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
        if (!spec) throw UsageError("unknown option '--" + name + "'");
        if (spec->takes_value && !inline_value) {
            if (i + 1 >= argv.size()) throw UsageError("option '--" + name + "' needs a value");
            value = argv[++i];
        }
        m_values[name] = spec->takes_value ? value : "1";
    }
}

std::string Args::get(const std::string& name) const
{
    auto it = m_values.find(name);
    if (it == m_values.end()) throw UsageError("missing required option '--" + name + "'");
    return it->second;
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
        throw UsageError("option '--" + name + "' expects an integer, got '" + text + "'");
    }
}

std::string format_options(const std::vector<OptionSpec>& specs)
{
    std::string out;
    for (const auto& s : specs) {
        std::string left = "  --" + s.name + (s.takes_value ? " VALUE" : "");
        if (left.size() < 26) left.resize(26, ' ');
        out += left + " " + s.help + "\n";
    }
    return out;
}

}  // namespace qs::cli
