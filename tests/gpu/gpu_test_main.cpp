// main of qs_gpu_tests (ctest gpu.kernels): the CUDA kernels against their CPU loops. On a machine
// or build without a CUDA device it prints why and exits 77, which ctest reports as skipped
// (SKIP_RETURN_CODE), so the binary builds and runs in every build.
#include <cstdio>

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace {
constexpr int kSkipped = 77;
}

int main(int argc, char** argv)
{
    if (!torch::cuda::is_available()) {
#ifdef QS_CUDA
        std::printf("SKIP: torch sees no CUDA device (QS_CUDA build, CUDA libtorch %s)\n",
                    torch::cuda::device_count() == 0 ? "with 0 devices" : "unavailable");
#else
        std::printf(
            "SKIP: no CUDA: this build has QS_CUDA off (the kernels are not compiled in) and "
            "torch sees no CUDA device\n");
#endif
        return kSkipped;
    }
#ifndef QS_CUDA
    std::printf("SKIP: torch sees %d CUDA device(s) but this build has QS_CUDA off\n",
                static_cast<int>(torch::cuda::device_count()));
    return kSkipped;
#else
    std::printf("CUDA devices: %d\n", static_cast<int>(torch::cuda::device_count()));
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
#endif
}
