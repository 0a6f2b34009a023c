// What the bench/ programs share: wall-clock timing (best of N runs after warm-ups), the
// synthetic activation-like matrix with outlier channels, and the start of the micro benchmarks
// (--threads / --reps, passive OpenMP waiting, the runtime line). Header-only: a bench includes
// it, no CMake change.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <torch/types.h>

#include "core/util/threading.h"

namespace qs_bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The shortest wall time in seconds of `reps` calls of f, after `warmups` untimed calls (the
// allocator, page faults, lazy initialisation). What f returns is freed after the clock stops:
// releasing a large result is not part of producing it.
template <typename F>
double best_seconds(F&& f, int reps, int warmups = 1)
{
    for (int i = 0; i < warmups; ++i)
        f();
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            best = std::min(best, seconds_since(t0));
        } else {
            [[maybe_unused]] const auto result = f();
            best = std::min(best, seconds_since(t0));
        }
    }
    return best;
}

// [rows, cols] float32 N(0, 1) (seed 0) with two outlier channels, x50 at column 7 and x20 at
// column cols / 3, as LLM activations have.
inline torch::Tensor with_outliers(std::int64_t rows, std::int64_t cols)
{
    torch::manual_seed(0);
    auto x = torch::randn({rows, cols});
    x.select(1, 7).mul_(50.0f);
    x.select(1, cols / 3).mul_(20.0f);
    return x;
}

// The micro benchmarks' options: --threads N (default 2) and --reps N (default 3).
struct ThreadsReps {
    int threads = 2;
    int reps = 3;
};

inline ThreadsReps parse_threads_reps(int argc, char** argv)
{
    ThreadsReps o;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads")) o.threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--reps")) o.reps = std::atoi(argv[i + 1]);
    }
    return o;
}

// The micro benchmarks' start: passive OpenMP waiting (re-executes the program if it must), the
// --threads option applied and the runtime line printed. Returns --reps.
inline int start_micro_bench(int argc, char** argv)
{
    qs::reexec_with_passive_openmp_wait(argv);
    const auto options = parse_threads_reps(argc, argv);
    qs::configure_threads(options.threads);
    std::printf("%s\n", qs::runtime_summary().c_str());
    return options.reps;
}

}  // namespace qs_bench
