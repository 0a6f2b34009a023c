#include "core/util/device.h"

#include <torch/cuda.h>

#include "core/util/device_list.h"
#include "core/util/error.h"

namespace qs {

torch::Device parse_device(const std::string& name)
{
    if (name == "cpu") return torch::kCPU;
    if (name.rfind("cuda", 0) == 0) {
        int index = 0;
        if (name.size() > 4) {
            if (name[4] != ':' || name.size() == 5)
                throw QsError("bad device '" + name + "' (use cpu or cuda:N)");
            try {
                index = std::stoi(name.substr(5));
            } catch (const std::exception&) {
                throw QsError("bad device '" + name + "' (use cpu or cuda:N)");
            }
        }
        if (!torch::cuda::is_available())
            throw QsError("device '" + name +
                          "' requested, but CUDA is not available (this build or machine has no "
                          "CUDA GPU); use --device cpu");
        if (index >= static_cast<int>(torch::cuda::device_count()))
            throw QsError("device '" + name + "' requested, but only " +
                          std::to_string(torch::cuda::device_count()) + " CUDA device(s) exist");
        return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw QsError("unknown device '" + name + "' (use cpu or cuda:N)");
}

std::vector<std::string> available_devices()
{
    std::vector<std::string> out = {"cpu"};
    if (torch::cuda::is_available())
        for (std::size_t i = 0; i < torch::cuda::device_count(); ++i)
            out.push_back("cuda:" + std::to_string(i));
    return out;
}

std::string device_problem(const std::string& name)
{
    try {
        parse_device(name);
        return "";
    } catch (const QsError& e) {
        return e.what();
    }
}

}  // namespace qs
