// CUDA in-block GPTQ (INT): one thread per weight row runs the block's column loop through the
// same gptq_solve_row as the CPU loop (compiled with --fmad=false, so bit-identical to it). The
// block's count x count Hinv is copied once per thread block into dynamic shared memory; every
// thread of a warp reads the same Hinv element at a time (a broadcast). The row's block of W sits
// in a per-thread buffer (local memory, cached in L1).
#include "core/kernels/gptq_block_cuda.h"

namespace qs::kernels {
namespace {

constexpr int kThreadsPerBlock = 64;
// Per-thread row buffer; the shared-memory Hinv copy caps the block lower still (~240 on H100).
constexpr std::int64_t kMaxCount = 256;

__global__ void gptq_block_kernel(GptqBlockArgs a)
{
    extern __shared__ float hinv_block[];  // [count, count], Hinv[i1:i2, i1:i2]
    const std::int64_t count = a.count;
    for (std::int64_t k = threadIdx.x; k < count * count; k += blockDim.x) {
        const std::int64_t i = k / count, t = k % count;
        hinv_block[k] = a.hinv[(a.i1 + i) * a.cols + a.i1 + t];
    }
    __syncthreads();
    const std::int64_t r = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= a.rows) return;
    float wb[kMaxCount];
    gptq_solve_row(a, r, hinv_block, count, wb);
}

}  // namespace

std::int64_t gptq_block_cuda_max_count(int device)
{
    int optin = 0;
    if (cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) !=
        cudaSuccess)
        return 0;
    std::int64_t n = 0;
    while (n < kMaxCount && std::int64_t(sizeof(float)) * (n + 1) * (n + 1) <= optin)
        ++n;
    return n;
}

cudaError_t gptq_solve_block_cuda(const GptqBlockArgs& args, cudaStream_t stream)
{
    if (args.rows <= 0 || args.count <= 0) return cudaSuccess;
    if (args.count > kMaxCount) return cudaErrorInvalidValue;
    const auto smem = static_cast<int>(sizeof(float) * args.count * args.count);
    // Above the default 48 KiB per block the kernel must opt in to more dynamic shared memory.
    if (smem > 48 * 1024) {
        const auto status = cudaFuncSetAttribute(gptq_block_kernel,
                                                 cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
        if (status != cudaSuccess) return status;
    }
    const auto blocks =
        static_cast<unsigned>((args.rows + kThreadsPerBlock - 1) / kThreadsPerBlock);
    gptq_block_kernel<<<blocks, kThreadsPerBlock, smem, stream>>>(args);
    return cudaGetLastError();
}

}  // namespace qs::kernels
