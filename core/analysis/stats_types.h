// Plain statistics records (no libtorch, no Qt) shared by the analysis code, the HDF5 session
// file and the GUI. Conventions:
// - A weight is [out, in]: rows = output channels, cols = input channels. An activation is
//   [tokens, in]: rows = tokens, cols = input channels (the linear's input features).
// - std is the population standard deviation; kurtosis_pearson = E[(x - mu)^4] / sigma^4
//   (normal = 3); kurtosis_excess = kurtosis_pearson - 3. Both are stored; plots say which.
// - Outlier channels: input channels whose absmax exceeds outlier_k x the median channel absmax
//   (default k = 6); count_above_6 counts elements with |x| > 6 (the LLM.int8 threshold).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qs {

struct BinnedCounts {
    std::vector<double> edges;   // bins + 1 strictly increasing edges
    std::vector<double> counts;  // count per bin
};

struct StatsOptions {
    int bins = 128;            // linear histogram over [min, max]
    int log_bins = 64;         // histogram of log10 |x| (zeros counted apart)
    double outlier_k = 6.0;    // outlier channel: absmax > k * median channel absmax
    double outlier_value = 6;  // LLM.int8 threshold for count_above
    int top_k = 16;            // channels listed by descending absmax
    // Activations: histograms come from a deterministic sample of at most this many tokens
    // (every other statistic uses every token).
    std::int64_t histogram_tokens = 8192;
};

struct TensorStats {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    double min = 0, max = 0, mean = 0, std = 0, absmax = 0;
    double kurtosis_pearson = 0;
    double kurtosis_excess() const { return kurtosis_pearson - 3.0; }
    std::int64_t count_above = 0;  // |x| > outlier_value
    double outlier_value = 6;
    BinnedCounts histogram;           // linear bins
    BinnedCounts log_histogram;       // bins over log10 |x| of the non-zero elements
    std::int64_t zeros = 0;           // elements equal to zero (not in log_histogram)
    std::vector<float> in_absmax;     // per input channel (cols)
    std::vector<float> in_mean_abs;   // per input channel
    std::vector<float> out_absmax;    // per output channel (rows); weights only, empty otherwise
    std::vector<float> out_mean_abs;  // per output channel; weights only
    double outlier_k = 6;
    std::vector<std::int32_t> outlier_channels;  // input channels, ascending
    std::vector<std::int32_t> top_channels;      // input channels by descending absmax
    bool empty() const { return rows == 0 && cols == 0; }
};

}  // namespace qs
