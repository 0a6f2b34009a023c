// Compute device selection by name: "cpu", "cuda", "cuda:N". CUDA requests on a machine or build
// without CUDA fail with a clear message instead of a libtorch backtrace.
#pragma once

#include <string>

#include <torch/types.h>

namespace qs {

torch::Device parse_device(const std::string& name);

}  // namespace qs
