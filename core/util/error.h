// Error type of the core: every failure a user can cause (bad file, bad option) is a QsError
// whose message names the file and the problem in one line, so the CLI and the GUI can show it
// as-is and exit or recover without a crash.
#pragma once

#include <stdexcept>
#include <string>

namespace qs {

class QsError : public std::runtime_error {
public:
    explicit QsError(const std::string& message) : std::runtime_error(message) {}
};

// "<path>: <problem>" -- the one-line form every file error uses.
[[noreturn]] inline void fail_file(const std::string& path, const std::string& problem)
{
    throw QsError(path + ": " + problem);
}

}  // namespace qs
