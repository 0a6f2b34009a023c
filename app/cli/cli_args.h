// Minimal option parser for quantscope-cli subcommands: "--name value", "--name=value",
// "--flag", with the accepted options declared per command so typos are reported (with the
// nearest known name) instead of ignored, and the help text every command prints.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace qs::cli {

struct OptionSpec {
    std::string name;  // without "--"
    bool takes_value = true;
    std::string help;                  // one sentence; says "(default ...)" where there is one
    std::string value_name = "VALUE";  // placeholder shown in the help: DIR, FILE, N, ...
};

// Thrown for bad command lines; main() prints it with a pointer to the command's --help and
// exits with status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Args {
public:
    // Throws UsageError on unknown options (naming the closest known one), a missing value or a
    // stray positional argument. "-h" is read as "--help".
    Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);

    bool has(const std::string& name) const { return m_values.count(name) > 0; }
    // Throws UsageError "missing required option --name VALUE" when absent.
    std::string get(const std::string& name) const;
    std::string get_or(const std::string& name, const std::string& fallback) const;
    long long get_int(const std::string& name, long long fallback) const;
    double get_double(const std::string& name, double fallback) const;

private:
    std::vector<OptionSpec> m_specs;
    std::map<std::string, std::string> m_values;
};

// What `quantscope-cli <command> --help` prints besides the option table.
struct CommandHelp {
    std::vector<std::string> usage;  // lines after "usage: " (first) / "       " (others)
    std::string summary;             // one sentence: what the command does
    std::string details;             // optional paragraphs, already wrapped
    std::vector<std::string> examples;
};

// "usage: ...", the summary, the details, "options:" with every spec (wrapped at 100
// columns), and "example(s):". The layout the man pages are generated from.
std::string format_help(const CommandHelp& help, const std::vector<OptionSpec>& specs);
std::string format_options(const std::vector<OptionSpec>& specs);

// The candidate closest to `word` by edit distance (or by prefix), "" when none is close.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace qs::cli
