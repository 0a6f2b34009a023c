// Which devices the hand-written kernels under core/kernels run on: the CPU loops always, the
// CUDA kernels in QS_CUDA builds (qs_core defines QS_CUDA publicly, so every translation unit
// sees the same answer). Tensors on any other device take each caller's fallback (the torch
// tensor-op implementation, or a CPU copy).
#pragma once

#include <torch/types.h>

namespace qs::kernels {

inline bool device_has_kernel(const torch::Tensor& x)
{
#ifdef QS_CUDA
    return x.is_cpu() || x.is_cuda();
#else
    return x.is_cpu();
#endif
}

}  // namespace qs::kernels
