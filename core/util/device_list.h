// The compute devices of this build and machine, without libtorch headers (the GUI's device
// picker includes this): "cpu", then "cuda:0", "cuda:1", ... when this build has CUDA and the
// machine a GPU.
#pragma once

#include <string>
#include <vector>

namespace qs {

std::vector<std::string> available_devices();

// Why `name` cannot be used ("" when it can): the message parse_device (device.h) throws.
std::string device_problem(const std::string& name);

}  // namespace qs
