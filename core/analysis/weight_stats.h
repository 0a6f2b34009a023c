// Statistics of one weight tensor W [out, in] for the layer inspector: value histogram,
// per-output-channel and per-input-channel absmax, kurtosis. Plain data (no libtorch in this
// header) so Qt code can include it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

class Feedback;

struct Histogram {
    std::vector<double> edges;   // bins + 1 edges, linear over [min, max]
    std::vector<double> counts;  // raw counts per bin (plots show them on a log axis)
};

struct WeightStats {
    std::string tensor_name;
    std::int64_t rows = 0;  // out features
    std::int64_t cols = 0;  // in features
    double min = 0, max = 0, mean = 0, std = 0, absmax = 0;
    // Pearson kurtosis E[(x-mu)^4]/sigma^4 over all elements: 3 for a normal distribution.
    double kurtosis_pearson = 0;
    double kurtosis_excess() const { return kurtosis_pearson - 3.0; }
    Histogram histogram;
    std::vector<float> out_channel_absmax;  // size rows
    std::vector<float> in_channel_absmax;   // size cols
};

// Reads the tensor from the model directory's checkpoint (lazily, one tensor) and computes the
// statistics. Throws QsError for an unknown tensor; CancelledError if feedback is cancelled.
WeightStats compute_weight_stats(const std::string& model_dir, const std::string& tensor_name,
                                 int bins = 128, Feedback* feedback = nullptr);

}  // namespace qs
