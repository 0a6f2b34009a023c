// Conventions (the inspector labels depend on them):
// - std is the population standard deviation (divide by N, not N-1): it is a property of the
//   tensor itself, not an estimate from a sample, and it is the sigma of the kurtosis below.
// - kurtosis_pearson = mean(((x - mean) / std)^4), so a normal distribution gives 3, a uniform
//   one 1.8, a symmetric two-point {-a, +a} one 1. It is NaN for a constant tensor (std = 0),
//   where the ratio is undefined.
// - The histogram spans [min, max] in `bins` equal bins, the last bin closed; a constant tensor
//   gets [v - 0.5, v + 0.5] so its edges stay strictly increasing.
// - A tensor [out, in] (or [out, ...] flattened to [out, rest]) has rows = out, cols = in; a 1-D
//   tensor (norm weights) has rows = size, cols = 1.
#include "core/analysis/weight_stats.h"

#include <cmath>
#include <limits>

#include <torch/types.h>

#include "core/io/tensor_store.h"
#include "core/io/tensor_torch.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {
namespace {

template <typename T>
std::vector<T> to_vector(const torch::Tensor& t)
{
    auto contiguous = t.contiguous();
    const T* data = contiguous.data_ptr<T>();
    return std::vector<T>(data, data + contiguous.numel());
}

// Counts with integer bincount: histc accumulates in float32, which stops counting exactly past
// 2^24 elements per bin (one bin of a large embedding can hold that many).
Histogram histogram_of(const torch::Tensor& values, double lo, double hi, int bins)
{
    Histogram h;
    h.edges.resize(static_cast<std::size_t>(bins) + 1);
    for (int i = 0; i <= bins; ++i)
        h.edges[i] = lo + (hi - lo) * i / bins;
    h.edges.back() = hi;  // exact upper edge despite rounding

    auto scaled = (values - lo) * (bins / (hi - lo));
    auto index = scaled.floor().clamp(0, bins - 1).to(torch::kLong);
    auto counts = torch::bincount(index, /*weights=*/{}, bins);
    auto as_int = to_vector<std::int64_t>(counts);
    h.counts.assign(as_int.begin(), as_int.end());
    return h;
}

}  // namespace

WeightStats compute_weight_stats(const std::string& model_dir, const std::string& tensor_name,
                                 int bins, Feedback* feedback)
{
    if (bins < 1)
        throw QsError("compute_weight_stats: bins must be >= 1, got " + std::to_string(bins));

    report(feedback, 0.0, "opening checkpoint");
    auto store = TensorStore::open_dir(model_dir);
    if (!store->contains(tensor_name)) fail_file(model_dir, "no tensor named " + tensor_name);

    report(feedback, 0.1, "loading " + tensor_name);
    torch::Tensor w = load_tensor(*store, tensor_name);
    store.reset();  // the float32 copy owns its memory; unmap the checkpoint now

    WeightStats s;
    s.tensor_name = tensor_name;
    if (w.dim() == 0) w = w.reshape({1});
    s.rows = w.size(0);
    s.cols = s.rows == 0 ? 0 : w.numel() / s.rows;
    if (w.numel() == 0) fail_file(model_dir, "tensor " + tensor_name + " is empty");
    auto matrix = w.reshape({s.rows, s.cols});
    auto flat = matrix.reshape({-1});

    report(feedback, 0.3, "moments");
    s.min = flat.min().item<double>();
    s.max = flat.max().item<double>();
    if (!std::isfinite(s.min) || !std::isfinite(s.max))
        fail_file(model_dir, "tensor " + tensor_name + " holds non-finite values");
    s.absmax = std::max(std::abs(s.min), std::abs(s.max));
    // Moments in float64: float32 sums of x^4 over millions of elements lose digits that the
    // kurtosis of heavy-tailed layers (the point of this view) depends on.
    auto x = flat.to(torch::kFloat64);
    s.mean = x.mean().item<double>();
    auto squared = (x - s.mean).square();
    double variance = squared.mean().item<double>();
    s.std = std::sqrt(variance);
    s.kurtosis_pearson = variance > 0
                             ? squared.square().mean().item<double>() / (variance * variance)
                             : std::numeric_limits<double>::quiet_NaN();

    report(feedback, 0.6, "histogram");
    double lo = s.min, hi = s.max;
    if (hi <= lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    s.histogram = histogram_of(x, lo, hi, bins);

    report(feedback, 0.8, "channel absmax");
    auto magnitude = matrix.abs();
    s.out_channel_absmax = to_vector<float>(std::get<0>(magnitude.max(1)));
    s.in_channel_absmax = to_vector<float>(std::get<0>(magnitude.max(0)));

    report(feedback, 1.0, "done");
    return s;
}

}  // namespace qs
