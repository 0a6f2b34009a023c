// Launcher of the CUDA in-block GPTQ kernel (gptq_block_cuda.cu; QS_CUDA builds only). Plain
// header: raw device pointers in a GptqBlockArgs, no torch.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "core/kernels/gptq_block_math.h"

namespace qs::kernels {

// Largest block (columns) whose count x count Hinv copy fits in the opt-in shared memory of
// `device` and in the kernel's per-thread row buffer.
std::int64_t gptq_block_cuda_max_count(int device);

// Every row of the block through gptq_solve_row, one thread per row, on `stream`. All pointers
// in `args` are device pointers. Returns the launch error (cudaSuccess when queued).
cudaError_t gptq_solve_block_cuda(const GptqBlockArgs& args, cudaStream_t stream);

}  // namespace qs::kernels
