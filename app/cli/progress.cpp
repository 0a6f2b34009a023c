#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"

namespace qs::cli {

void attach_stderr_progress(Feedback& feedback, bool quiet)
{
    if (quiet) return;
    // Throttle to ~4 lines a second so logs stay readable.
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    feedback.set_listener([last](double fraction, const std::string& stage) {
        auto now = std::chrono::steady_clock::now();
        if (fraction < 1.0 && now - *last < std::chrono::milliseconds(250)) return;
        *last = now;
        std::fprintf(stderr, "[%3d%%] %s\n", static_cast<int>(fraction * 100.0 + 0.5),
                     stage.c_str());
    });
}

}  // namespace qs::cli
