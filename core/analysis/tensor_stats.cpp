// The accumulator keeps only merged scalars, two float64 vectors per channel and the histogram
// sample; the element-wise work (tiled, parallel, in torch ops so that a CUDA activation is
// reduced on its device, and the per-channel channel_stats kernel) is in tensor_stats_reduce.cpp.
#include "core/analysis/tensor_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include <ATen/ATen.h>

#include "core/analysis/tensor_stats_reduce.h"
#include "core/util/error.h"

namespace qs {
namespace {

using stats_detail::CentredMoments;

// Elements per row block when a weight is summarised: bounds the copies made per add().
constexpr std::int64_t kWeightBlockElements = std::int64_t{1} << 22;

// [..., channels] of any floating dtype -> contiguous [tokens, channels] in float32 (float64
// stays); bf16 / fp16 in a single converting copy.
torch::Tensor as_token_matrix(const torch::Tensor& x, std::int64_t channels, const char* who)
{
    if (!x.is_floating_point())
        throw QsError(std::string(who) + ": expects a floating-point tensor, got " +
                      std::string(c10::toString(x.scalar_type())));
    if (x.dim() < 1 || x.size(-1) != channels)
        throw QsError(std::string(who) + ": expects a last dimension of " +
                      std::to_string(channels) + ", got shape " + c10::str(x.sizes()));
    auto x2d = x.detach().reshape({-1, channels});
    if (x2d.scalar_type() == torch::kFloat32 || x2d.scalar_type() == torch::kFloat64)
        return x2d.contiguous();
    return x2d.to(torch::kFloat32, /*non_blocking=*/false, /*copy=*/false,
                  at::MemoryFormat::Contiguous);
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b)
{
    return (a + b - 1) / b;
}

double median_of(std::vector<double> values)
{
    const std::size_t n = values.size();
    if (n == 0) return 0;
    const std::size_t mid = n / 2;
    std::nth_element(values.begin(), values.begin() + mid, values.end());
    const double upper = values[mid];
    if (n % 2 == 1) return upper;
    const double lower = *std::max_element(values.begin(), values.begin() + mid);
    return 0.5 * (lower + upper);
}

// outlier_channels and top_channels from in_absmax (see the header for the rules).
void fill_channel_rankings(TensorStats& s, const StatsOptions& options)
{
    const std::vector<double> absmax(s.in_absmax.begin(), s.in_absmax.end());
    const double threshold = options.outlier_k * median_of(absmax);
    for (std::size_t c = 0; c < absmax.size(); ++c)
        if (absmax[c] > threshold) s.outlier_channels.push_back(static_cast<std::int32_t>(c));

    std::vector<std::int32_t> order(absmax.size());
    std::iota(order.begin(), order.end(), 0);
    const auto k =
        std::min<std::size_t>(static_cast<std::size_t>(std::max(options.top_k, 0)), order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](std::int32_t a, std::int32_t b) {
                          const double va = absmax[static_cast<std::size_t>(a)];
                          const double vb = absmax[static_cast<std::size_t>(b)];
                          return va > vb || (va == vb && a < b);
                      });
    order.resize(k);
    s.top_channels = std::move(order);
}

void check_options(const StatsOptions& options, const char* who)
{
    if (options.bins < 1 || options.log_bins < 1)
        throw QsError(std::string(who) + ": bins and log_bins must be >= 1, got " +
                      std::to_string(options.bins) + " and " + std::to_string(options.log_bins));
    if (options.histogram_tokens < 1)
        throw QsError(std::string(who) + ": histogram_tokens must be >= 1, got " +
                      std::to_string(options.histogram_tokens));
}

std::vector<float> to_float(const std::vector<double>& values, double divisor = 1.0)
{
    std::vector<float> out(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
        out[i] = static_cast<float>(values[i] / divisor);
    return out;
}

}  // namespace

ActivationStatsAccumulator::ActivationStatsAccumulator(std::int64_t channels, StatsOptions options)
    : m_channels(channels), m_options(options)
{
    if (channels < 1)
        throw QsError("ActivationStatsAccumulator: channels must be >= 1, got " +
                      std::to_string(channels));
    check_options(m_options, "ActivationStatsAccumulator");
    m_channel_absmax.assign(static_cast<std::size_t>(channels), 0.0);
    m_channel_sum_abs.assign(static_cast<std::size_t>(channels), 0.0);
}

void ActivationStatsAccumulator::add(const torch::Tensor& x)
{
    auto x2d = as_token_matrix(x, m_channels, "ActivationStatsAccumulator::add");
    if (x2d.size(0) == 0) return;
    torch::NoGradGuard no_grad;

    const auto b = stats_detail::summarize_matrix(x2d, m_options.outlier_value);
    CentredMoments total = stats_detail::merge({m_count, m_mean, m_m2, m_m3, m_m4}, b.moments);
    m_min = m_tokens == 0 ? b.min : std::min(m_min, b.min);
    m_max = m_tokens == 0 ? b.max : std::max(m_max, b.max);
    m_count = total.n;
    m_mean = total.mean;
    m_m2 = total.m2;
    m_m3 = total.m3;
    m_m4 = total.m4;
    m_count_above += b.count_above;
    m_zeros += b.zeros;
    for (std::size_t c = 0; c < m_channel_absmax.size(); ++c) {
        m_channel_absmax[c] = std::max(m_channel_absmax[c], b.channel_absmax[c]);
        m_channel_sum_abs[c] += b.channel_sum_abs[c];
    }

    add_to_sample(x2d, x2d.is_alias_of(x));
    m_tokens += x2d.size(0);
}

void ActivationStatsAccumulator::add_to_sample(const torch::Tensor& x2d, bool copy)
{
    const std::int64_t first = m_tokens, total = m_tokens + x2d.size(0);
    std::int64_t stride = m_sample_stride;
    while (ceil_div(total, stride) > m_options.histogram_tokens)
        stride *= 2;
    if (stride != m_sample_stride) {
        // Keep the rows whose token index is a multiple of the new stride: every ratio-th row
        // of each piece, starting at the first one that is.
        std::vector<SamplePiece> thinned;
        for (auto& piece : m_sample) {
            const std::int64_t ratio = stride / piece.stride;
            const std::int64_t index_in_units = piece.first_token / piece.stride;
            const std::int64_t start = (ratio - index_in_units % ratio) % ratio;
            if (start >= piece.rows.size(0)) continue;
            SamplePiece kept;
            kept.rows = piece.rows.slice(0, start, piece.rows.size(0), ratio)
                            .clone(at::MemoryFormat::Contiguous);  // frees the old rows
            kept.first_token = piece.first_token + start * piece.stride;
            kept.stride = stride;
            thinned.push_back(std::move(kept));
        }
        m_sample = std::move(thinned);
        m_sample_stride = stride;
    }
    const std::int64_t start = ceil_div(first, stride) * stride - first;
    if (start >= x2d.size(0)) return;
    SamplePiece piece;
    auto kept = x2d.slice(0, start, x2d.size(0), stride);
    piece.rows = copy ? kept.clone(at::MemoryFormat::Contiguous) : kept.contiguous();
    piece.first_token = first + start;
    piece.stride = stride;
    m_sample.push_back(std::move(piece));
}

TensorStats ActivationStatsAccumulator::finish() const
{
    TensorStats s;
    s.outlier_value = m_options.outlier_value;
    s.outlier_k = m_options.outlier_k;
    if (m_tokens == 0) return s;
    if (!std::isfinite(m_min) || !std::isfinite(m_max) || !std::isfinite(m_m4))
        throw QsError("activation statistics: the stream holds non-finite values (NaN or inf)");
    torch::NoGradGuard no_grad;

    s.rows = m_tokens;
    s.cols = m_channels;
    s.min = m_min;
    s.max = m_max;
    s.absmax = std::max(std::abs(m_min), std::abs(m_max));
    if (m_min == m_max) {  // constant: rounding in the float64 mean must not fake a spread
        s.mean = m_min;
        s.std = 0;
        s.kurtosis_pearson = std::numeric_limits<double>::quiet_NaN();
    } else {
        s.mean = m_mean;
        const double variance = m_m2 / m_count;
        s.std = std::sqrt(variance);
        s.kurtosis_pearson = variance > 0 ? (m_m4 / m_count) / (variance * variance)
                                          : std::numeric_limits<double>::quiet_NaN();
    }
    s.count_above = m_count_above;
    s.zeros = m_zeros;

    std::vector<torch::Tensor> pieces;
    for (const auto& piece : m_sample)
        pieces.push_back(piece.rows);
    stats_detail::fill_histograms(pieces, m_options.bins, m_options.log_bins, s.histogram,
                                  s.log_histogram);

    s.in_absmax = to_float(m_channel_absmax);
    s.in_mean_abs = to_float(m_channel_sum_abs, double(m_tokens));
    fill_channel_rankings(s, m_options);
    return s;
}

TensorStats compute_weight_tensor_stats(const torch::Tensor& w, const StatsOptions& options)
{
    if (w.dim() != 2)
        throw QsError("compute_weight_tensor_stats: expects a 2-D weight [out, in], got shape " +
                      c10::str(w.sizes()));
    if (w.numel() == 0)
        throw QsError("compute_weight_tensor_stats: empty weight of shape " + c10::str(w.sizes()));
    if (!w.is_floating_point())
        throw QsError("compute_weight_tensor_stats: expects a floating-point tensor, got " +
                      std::string(c10::toString(w.scalar_type())));
    check_options(options, "compute_weight_tensor_stats");
    torch::NoGradGuard no_grad;

    const std::int64_t rows = w.size(0), cols = w.size(1);
    StatsOptions every_row = options;
    every_row.histogram_tokens = rows;  // stride 1: the histograms cover every element
    ActivationStatsAccumulator accumulator(cols, every_row);

    // Row blocks bound the temporaries of the per-row statistics.
    const std::int64_t block = std::max<std::int64_t>(1, kWeightBlockElements / cols);
    std::vector<torch::Tensor> out_absmax, out_sum_abs;
    for (std::int64_t r = 0; r < rows; r += block) {
        auto rows_block = w.slice(0, r, std::min(rows, r + block));
        accumulator.add(rows_block);
        auto magnitude = rows_block.abs();
        out_absmax.push_back(magnitude.amax(1).to(torch::kFloat32));
        out_sum_abs.push_back(at::sum(magnitude, {1}, false, torch::kFloat64));
    }
    TensorStats s = accumulator.finish();

    auto absmax = at::cat(out_absmax).cpu().contiguous();
    auto mean_abs = (at::cat(out_sum_abs) / double(cols)).to(torch::kFloat32).cpu().contiguous();
    s.out_absmax.assign(absmax.data_ptr<float>(), absmax.data_ptr<float>() + rows);
    s.out_mean_abs.assign(mean_abs.data_ptr<float>(), mean_abs.data_ptr<float>() + rows);
    return s;
}

}  // namespace qs
