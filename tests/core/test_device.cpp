// Device selection by name: the list the GUI's device picker shows, and the clear refusals for a
// device this build or machine lacks (never a libtorch backtrace).
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "core/util/device.h"
#include "core/util/device_list.h"
#include "core/util/error.h"

TEST(Device, ListStartsWithCpuAndHasEveryCudaDevice)
{
    const auto devices = qs::available_devices();
    ASSERT_FALSE(devices.empty());
    EXPECT_EQ(devices.front(), "cpu");
    const std::size_t gpus = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
    EXPECT_EQ(devices.size(), 1 + gpus);
    for (const auto& name : devices)
        EXPECT_EQ(qs::device_problem(name), "") << name;
}

TEST(Device, RefusalsSayWhatToUse)
{
    EXPECT_EQ(qs::parse_device("cpu"), torch::Device(torch::kCPU));
    EXPECT_NE(qs::device_problem("gpu").find("unknown device 'gpu'"), std::string::npos);
    EXPECT_NE(qs::device_problem("cuda:x").find("use cpu or cuda:N"), std::string::npos);
    const std::string far = qs::device_problem("cuda:99");
    EXPECT_NE(far.find("cuda:99"), std::string::npos);
    if (!torch::cuda::is_available())
        EXPECT_NE(far.find("CUDA is not available"), std::string::npos) << far;
    EXPECT_THROW(qs::parse_device("cuda:99"), qs::QsError);
}
