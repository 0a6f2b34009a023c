// quantscope-cli subcommands. Each takes the arguments after its name and returns the exit
// code; results go to stdout, progress and errors to stderr.
#pragma once

#include <string>
#include <vector>

#include "core/util/feedback.h"

namespace qs::cli {

int run_info(const std::vector<std::string>& args);
int run_generate(const std::vector<std::string>& args);
int run_eval(const std::vector<std::string>& args);
int run_quantize(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
int run_sweep(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_synth(const std::vector<std::string>& args);
int run_import(const std::vector<std::string>& args);

// A Feedback that prints "[ 42%] stage" lines to stderr (throttled) unless quiet.
void attach_stderr_progress(Feedback& feedback, bool quiet);

}  // namespace qs::cli
