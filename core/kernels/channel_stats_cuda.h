// Launcher of the per-channel absmax / sum |x| kernel (channel_stats_cuda.cu; QS_CUDA builds
// only). Plain header: device pointers in a ChannelStatsArgs, no torch.
#pragma once

#include <cuda_runtime_api.h>

#include "core/kernels/channel_stats_math.h"

namespace qs::kernels {

// Two launches on `stream`: one thread per (token chunk, channel), then one per channel to add
// the chunks in order. Returns the launch error (cudaSuccess when queued).
cudaError_t channel_stats_cuda(const ChannelStatsArgs& args, cudaStream_t stream);

}  // namespace qs::kernels
