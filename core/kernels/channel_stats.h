// Per-channel absmax and sum |x| of an activation batch [tokens, channels] (the channel vectors
// ActivationStatsAccumulator::add reduces), in the fixed order of channel_stats_math.h: the same
// bits on the CPU and, in QS_CUDA builds, on a CUDA device.
#pragma once

#include <torch/types.h>

namespace qs::kernels {

struct ChannelAbsStats {
    torch::Tensor absmax;   // [channels] float32
    torch::Tensor sum_abs;  // [channels] float64
};

// x2d: [tokens, channels] float32 with contiguous channels (any token stride). Results on x2d's
// device: CPU tensors run the CPU loop, CUDA tensors (QS_CUDA) the kernel; other devices go
// through a CPU copy.
ChannelAbsStats channel_abs_stats(const torch::Tensor& x2d);

// Whether channel_abs_stats reduces x on x's own device (the CPU; CUDA in QS_CUDA builds) rather
// than through a CPU copy: callers with a device-side fallback take it otherwise.
bool channel_abs_stats_has_kernel(const torch::Tensor& x);

}  // namespace qs::kernels
