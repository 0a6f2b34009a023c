// Internal to tensor_stats.cpp: the element-wise reductions behind TensorStats, in torch ops.
// On the CPU a matrix is cut into tiles of under 32 Ki elements (whole rows when the channels
// allow), whose temporaries (|x|, the float64 copy, its powers) live in reused scratch tensors
// that stay in L2: whole-batch temporaries of a [2048, 11008] batch are 90-180 MB each, and
// allocating and faulting them in costs several times the arithmetic. A fixed number of runs of
// tiles are reduced on up to at::get_num_threads() threads and merged in order, so results do
// not depend on the thread count. Other devices reduce the whole matrix at once and bring back
// a few scalars and two [channels] vectors. The per-channel absmax and sum |x| of a float32
// matrix come from the channel_stats kernel (core/kernels/channel_stats.h) on the CPU and, in
// QS_CUDA builds, on CUDA devices.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/analysis/stats_types.h"

namespace qs::stats_detail {

// Count, mean and sums of centred powers (x - mean)^k, k = 2, 3, 4, of a set of values.
struct CentredMoments {
    double n = 0, mean = 0, m2 = 0, m3 = 0, m4 = 0;
};

// Moments of the union of two disjoint sets (Pebay 2008, eqs. 2.1-2.3; Chan et al. for m2).
CentredMoments merge(const CentredMoments& a, const CentredMoments& b);

// Everything one [tokens, channels] matrix contributes to TensorStats except the histograms.
struct MatrixSummary {
    CentredMoments moments;
    double min = 0, max = 0;
    std::int64_t count_above = 0;  // |x| > outlier_value
    std::int64_t zeros = 0;
    std::vector<double> channel_absmax;  // [channels]
    // [channels]: float64 over 256-token chunks from the kernel; in the tensor-op reduction
    // float32 within a tile, float64 beyond.
    std::vector<double> channel_sum_abs;
};

// x2d: [tokens > 0, channels], float32 or float64, any device. The channel vectors come from the
// kernel for float32 on a device it runs on, otherwise from summarize_matrix_tensor_ops.
MatrixSummary summarize_matrix(const torch::Tensor& x2d, double outlier_value);
// The all-torch reduction (every statistic from the tiles): the reference summarize_matrix's
// kernel path is tested against, and the path of float64 and of devices without the kernel.
MatrixSummary summarize_matrix_tensor_ops(const torch::Tensor& x2d, double outlier_value);

// The linear histogram over the pieces' [min, max] and the log10 |x| histogram over their
// non-zero elements (conventions in tensor_stats.h). Pieces: [n, channels], float32 or float64.
void fill_histograms(const std::vector<torch::Tensor>& pieces, int bins, int log_bins,
                     BinnedCounts& linear, BinnedCounts& log10_magnitude);

}  // namespace qs::stats_detail
