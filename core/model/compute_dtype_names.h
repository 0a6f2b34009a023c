// The compute dtype names without libtorch headers (the GUI's precision menu includes this):
// the canonical names parse_compute_dtype (compute_dtype.h) reads and compute_dtype_name writes.
#pragma once

#include <string>
#include <vector>

namespace qs {

// "fp32", "bf16", "fp16", in that order.
std::vector<std::string> compute_dtype_names();

}  // namespace qs
