// Minimal option parser for quantscope-cli subcommands: "--name value", "--flag", with the
// accepted options declared per command so typos are reported instead of ignored.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace qs::cli {

struct OptionSpec {
    std::string name;  // without "--"
    bool takes_value = true;
    std::string help;
};

class Args {
public:
    // Throws UsageError on unknown options or a missing value.
    Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);

    bool has(const std::string& name) const { return m_values.count(name) > 0; }
    std::string get(const std::string& name) const;  // throws UsageError when absent
    std::string get_or(const std::string& name, const std::string& fallback) const;
    long long get_int(const std::string& name, long long fallback) const;

private:
    std::map<std::string, std::string> m_values;
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string format_options(const std::vector<OptionSpec>& specs);

}  // namespace qs::cli
