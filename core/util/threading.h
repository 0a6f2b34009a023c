// libtorch thread setup. Debian's libtorch starts with one intra-op thread; QuantScope uses as
// many as there are cores (QS_THREADS overrides), with OpenBLAS (libopenblas0-openmp) as BLAS.
#pragma once

#include <string>

namespace qs {

// Sets torch intra-op threads; returns the count used. Call once at program start.
int configure_threads(int requested = 0);

// "torch 1.13.1, 2 threads, BLAS: /usr/lib/.../openblas-openmp/libblas.so.3" for --version/info.
std::string runtime_summary();

}  // namespace qs
