// QS_HD marks the scalar arithmetic that both the CPU reference loops and the CUDA kernels run:
// one source, compiled by the host compiler for the CPU paths and tests, and by nvcc (with
// --fmad=false, so no multiply-add is contracted) for the kernels under QS_CUDA. The CPU and the
// GPU then do the same float operations in the same order, which is what makes quantize-dequantize
// bit-exact across devices.
#pragma once

#if defined(__CUDACC__)
#define QS_HD __host__ __device__ __forceinline__
#else
#define QS_HD inline
#endif
