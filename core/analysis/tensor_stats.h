// TensorStats (core/analysis/stats_types.h) of a weight [out, in] in one call, and of a linear's
// input activations streamed batch by batch. Conventions, beyond those of stats_types.h:
// - Moments (mean, std, kurtosis) are exact over every element: the centred moments of each
//   tile of rows are computed in float64 and merged with the parallel update formulas (Chan et
//   al. for M2, Pebay 2008 for M3, M4), so a large mean (1e4 with std 1) does not cancel the
//   kurtosis away. std is the population std; a constant tensor (min == max) has std 0 and
//   kurtosis NaN.
// - min, max, absmax, count_above, zeros and the per-channel absmax / mean |x| use every element
//   (absmax exactly; the sums behind mean |x| add in float64, in 256-token chunks of a batch
//   added in order, for float32 batches on the CPU and CUDA devices (the channel_stats kernel);
//   for float64 batches and other devices, in float32 within a tile of under 32 Ki elements on
//   the CPU or a whole batch elsewhere, and in float64 beyond). Results do not depend on the
//   number of threads.
// - Histograms: the linear one spans the histogram sample's [min, max] in options.bins equal
//   bins (last bin closed); the log one spans [min, max] of log10 |x| over the sample's non-zero
//   elements in options.log_bins bins. A constant range [v, v] becomes [v - 0.5, v + 0.5]; a
//   sample without non-zero elements gets zero counts over [-0.5, 0.5]. Counts are integers
//   (bincount), exact past 2^24 per bin.
// - Activation histogram sample: token t (0-based over the whole stream) is kept when t is a
//   multiple of the stride s, where s is the smallest power of two with
//   ceil(tokens / s) <= options.histogram_tokens. s doubles as the stream grows (dropping the
//   kept tokens that are odd multiples of the old stride), so the sample covers the whole stream
//   evenly, holds at most histogram_tokens tokens (and more than half of them once the cap has
//   been reached), and depends only on the token order, not on how the stream was batched.
//   Weights keep every row (the histograms cover every element).
// - Outlier channels: in_absmax[c] > outlier_k * median(in_absmax), strictly; the median of an
//   even count is the mean of the two middle values. With a zero median every channel with a
//   non-zero absmax is an outlier.
// - top_channels: min(top_k, cols) input channels by in_absmax descending, ties by lower index.
// Non-finite values (NaN, +-inf) anywhere make finish() / compute_weight_tensor_stats throw
// QsError: every moment would be meaningless.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/analysis/stats_types.h"

namespace qs {

// Statistics of a 2-D weight [out, in] of any floating dtype and device: in_* per input channel
// (column), out_* per output channel (row). Throws QsError for other ranks, an empty or
// non-floating tensor, non-finite values or bad options (bins, log_bins, histogram_tokens < 1).
TensorStats compute_weight_tensor_stats(const torch::Tensor& w, const StatsOptions& options = {});

// Streams a linear's input activations x [..., channels] (any floating dtype, any device; the
// leading dimensions are flattened into tokens) into TensorStats with rows = tokens and
// cols = channels; out_* stay empty. Other floating dtypes (bf16, fp16) are converted to one
// float32 copy that every statistic and the sample share. CPU batches are reduced on up to
// at::get_num_threads() threads; other devices reduce on the device and transfer a few scalars and
// two [channels] vectors per add(). The histogram sample (see above) stays on the device of its
// batch: up to histogram_tokens x channels values (8192 x 11008 float32 = 360 MB with the
// defaults), so callers holding many accumulators at once should lower histogram_tokens.
class ActivationStatsAccumulator {
public:
    explicit ActivationStatsAccumulator(std::int64_t channels, StatsOptions options = {});

    // Throws QsError when x's last dimension is not `channels` or x is not floating point.
    // A batch with zero tokens is ignored.
    void add(const torch::Tensor& x);
    // Statistics over every token added so far (the accumulator stays usable). With no token
    // added, a default TensorStats (empty()) carrying the options' thresholds.
    TensorStats finish() const;
    std::int64_t tokens() const { return m_tokens; }
    std::int64_t channels() const { return m_channels; }

private:
    // Kept tokens of one batch: rows first_token, first_token + stride, ... of the stream.
    struct SamplePiece {
        torch::Tensor rows;  // [n, channels], float32 (float64 inputs keep float64)
        std::int64_t first_token = 0;
        std::int64_t stride = 1;
    };
    // copy: x2d shares the caller's storage, which may be a buffer reused in place.
    void add_to_sample(const torch::Tensor& x2d, bool copy);

    std::int64_t m_channels = 0;
    StatsOptions m_options;
    std::int64_t m_tokens = 0;
    // Merged centred moments over every element: count, mean, sums of (x - mean)^2, ^3, ^4.
    double m_count = 0, m_mean = 0, m_m2 = 0, m_m3 = 0, m_m4 = 0;
    double m_min = 0, m_max = 0;
    std::int64_t m_count_above = 0, m_zeros = 0;
    std::vector<double> m_channel_absmax;   // [channels]
    std::vector<double> m_channel_sum_abs;  // [channels]
    std::int64_t m_sample_stride = 1;
    std::vector<SamplePiece> m_sample;
};

}  // namespace qs
