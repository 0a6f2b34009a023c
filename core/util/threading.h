// libtorch thread setup. Debian's libtorch starts with one intra-op thread; QuantScope uses as
// many as there are cores (QS_THREADS overrides), with OpenBLAS (libopenblas0-openmp) as BLAS.
#pragma once

#include <string>

namespace qs {

// Sets torch intra-op threads; returns the count used. Call once at program start.
int configure_threads(int requested = 0);

// libgomp reads OMP_WAIT_POLICY once, when it is loaded, and by default keeps idle worker threads
// spinning. On a small machine that starves every other thread: the GUI thread, the other
// process of a parallel test run (one GPTQ experiment took 58 s instead of 5.8 s on 2 loaded
// cores). Unless the variable is set, this re-executes the program (/proc/self/exe, same argv)
// with OMP_WAIT_POLICY=passive; it returns when nothing had to be done or the exec failed.
// Call first thing in main().
void reexec_with_passive_openmp_wait(char** argv);

// "torch 1.13.1, 2 threads, BLAS: /usr/lib/.../openblas-openmp/libblas.so.3" for --version/info.
std::string runtime_summary();

}  // namespace qs
