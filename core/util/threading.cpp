#include "core/util/threading.h"

#include <cstdlib>

#include <unistd.h>
#include <dlfcn.h>
#include <filesystem>
#include <link.h>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include "core/util/device_list.h"

namespace qs {

int configure_threads(int requested)
{
    int threads = requested;
    if (threads <= 0) {
        if (const char* env = std::getenv("QS_THREADS")) threads = std::atoi(env);
    }
    if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
    // OpenBLAS (OpenMP build) follows OMP_NUM_THREADS, read by libgomp at its start;
    // at::set_num_threads also sets omp_set_num_threads for the running process.
    at::set_num_threads(threads);
    return threads;
}

static int find_blas(struct dl_phdr_info* info, size_t, void* data)
{
    auto* out = static_cast<std::string*>(data);
    std::string name = info->dlpi_name ? info->dlpi_name : "";
    if (out->empty() && (name.find("blas") != std::string::npos)) *out = name;
    return 0;
}

std::string runtime_summary()
{
    std::string blas;
    dl_iterate_phdr(find_blas, &blas);
    std::error_code ec;
    // libblas.so.3 is a Debian alternative: show which implementation it points to.
    if (!blas.empty()) {
        auto real = std::filesystem::canonical(blas, ec);
        if (!ec) blas = real.string();
    }
    // The devices --device accepts: the CUDA ones say whether this is a CUDA build on a GPU.
    std::string devices;
    for (const auto& name : available_devices())
        devices += (devices.empty() ? "" : " ") + name;
    return std::string("torch ") + TORCH_VERSION + ", " + std::to_string(at::get_num_threads()) +
           " threads, BLAS: " + (blas.empty() ? "unknown" : blas) + ", devices: " + devices;
}

void reexec_with_passive_openmp_wait(char** argv)
{
    if (std::getenv("OMP_WAIT_POLICY")) return;
    ::setenv("OMP_WAIT_POLICY", "passive", 1);
    ::execv("/proc/self/exe", argv);
    // exec failed (no /proc): run on with the default policy.
}

}  // namespace qs
