// Moments are centred per tile in float64 and merged, never formed from raw power sums: with
// mean 1e4 and std 1 the raw sum of x^4 is 1e16 per element while the fourth central moment is
// 3, and float64 keeps 16 digits -- nothing of the kurtosis would be left.
//
// Per-channel absmax and sum |x| of a float32 matrix come from the channel_stats kernel
// (core/kernels/channel_stats.h: one pass, float64 sums in fixed 256-token chunks, the same bits
// on the CPU and CUDA) when it runs on the matrix's device; the tiles then skip their two column
// reductions. summarize_matrix_tensor_ops keeps the former all-torch reduction as the reference.
//
// Threads: core is compiled without OpenMP, so at::parallel_for would run inline here; the runs
// go to std::threads instead. Each tile stays below torch's parallel grain and no op calls
// BLAS, so no op inside a run forks an OpenMP team of its own: thousands of small forks per
// batch made a [65536, 11008] stream take minutes instead of seconds on a loaded 2-core machine
// (spinning workers competing with the thread they wait for).
#include "core/analysis/tensor_stats_reduce.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "core/kernels/channel_stats.h"

namespace qs::stats_detail {
namespace {

// Just under torch's parallel grain (at::internal::GRAIN_SIZE = 32 Ki elements): ops on a tile
// run serially, so sums do not depend on the thread count, and the tile, |x|, an indicator and
// the float64 copies (256 KiB each) stay in L2.
constexpr std::int64_t kTileElements = at::internal::GRAIN_SIZE - 1;
// Contiguous runs of tiles, each reduced into its own partial result and merged in order:
// a fixed count, so results are the same for any number of threads.
constexpr std::int64_t kRuns = 16;
// float32 sums of 0/1 indicators are exact below this count.
constexpr std::int64_t kExactFloatCount = std::int64_t{1} << 24;

constexpr double kInf = std::numeric_limits<double>::infinity();

// A block of rows and channels of a [tokens, channels] matrix.
struct Tile {
    torch::Tensor values;  // view [rows, width]
    std::int64_t first_channel = 0;
};

// Tiles of fewer than kTileElements elements covering x2d (full rows when channels allow) on
// the CPU; elsewhere x2d itself.
void append_tiles(const torch::Tensor& x2d, std::vector<Tile>& tiles)
{
    const std::int64_t rows = x2d.size(0), cols = x2d.size(1);
    if (rows == 0 || cols == 0) return;
    if (!x2d.is_cpu()) {
        tiles.push_back({x2d, 0});
        return;
    }
    const std::int64_t width = std::min(cols, kTileElements);
    const std::int64_t height = std::max<std::int64_t>(1, kTileElements / width);
    for (std::int64_t r = 0; r < rows; r += height) {
        auto block = x2d.slice(0, r, std::min(rows, r + height));
        for (std::int64_t c = 0; c < cols; c += width)
            tiles.push_back({block.slice(1, c, std::min(cols, c + width)), c});
    }
}

// Scratch tensors reused from tile to tile: a fresh temporary per op would be allocated, faulted
// in and trimmed again by malloc, which costs several times the arithmetic.
class Scratch {
public:
    enum Slot { kMagnitude, kIndicator, kWide, kSquared, kProduct, kIndex, kSlots };
    // A contiguous tensor of `shape` with the dtype and device of `options`, in `slot`'s memory.
    torch::Tensor get(Slot slot, at::IntArrayRef shape, const torch::TensorOptions& options)
    {
        torch::Tensor& b = m_buffers[slot];
        std::int64_t n = 1;
        for (auto d : shape)
            n *= d;
        if (!b.defined() || b.numel() < n || b.scalar_type() != options.dtype() ||
            b.device() != options.device())
            b = torch::empty({n}, options);
        return b.narrow(0, 0, n).view(shape);
    }

private:
    torch::Tensor m_buffers[kSlots];
};

// Calls f(run, first_tile, end_tile, scratch) for each of min(kRuns, tiles) contiguous runs of
// tiles, on up to at::get_num_threads() threads; each thread owns a Scratch. Rethrows the first
// exception once every thread has stopped.
void for_each_run(std::int64_t tiles,
                  const std::function<void(std::int64_t, std::int64_t, std::int64_t, Scratch&)>& f)
{
    const std::int64_t runs = std::min(kRuns, tiles);
    const std::int64_t threads = std::min<std::int64_t>(runs, std::max(1, at::get_num_threads()));
    std::atomic<std::int64_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&]() {
        Scratch scratch;
        for (std::int64_t run = next++; run < runs; run = next++) {
            try {
                f(run, run * tiles / runs, (run + 1) * tiles / runs, scratch);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                next = runs;
            }
        }
    };
    std::vector<std::thread> helpers;
    for (std::int64_t t = 1; t < threads; ++t)
        helpers.emplace_back(work);
    work();
    for (auto& helper : helpers)
        helper.join();
    if (error) std::rethrow_exception(error);
}

// The 0-dim tensors as float64 values on the CPU, in one transfer.
std::vector<double> read_scalars(const std::vector<torch::Tensor>& scalars)
{
    std::vector<torch::Tensor> as_double;
    for (const auto& s : scalars)
        as_double.push_back(s.to(torch::kFloat64));
    auto packed = at::stack(as_double).cpu();
    const double* p = packed.data_ptr<double>();
    return std::vector<double>(p, p + packed.numel());
}

// Number of elements of `values` above `threshold` (0-dim tensor), through a 0/1 indicator in
// scratch: a comparison into float and a sum are several times faster than count_nonzero.
torch::Tensor count_above(const torch::Tensor& values, double threshold, Scratch& scratch)
{
    auto indicator = scratch.get(Scratch::kIndicator, values.sizes(), values.options());
    at::gt_out(indicator, values, threshold);
    return indicator.numel() < kExactFloatCount ? indicator.sum() : indicator.sum(torch::kFloat64);
}

struct PartialSummary {
    CentredMoments moments;
    double min = kInf, max = -kInf;
    std::int64_t count_above = 0, nonzero = 0;
    // [channels] float64 on the tiles' device; undefined when the kernel reduces the channels.
    torch::Tensor channel_absmax, channel_sum_abs;
};

void add_tile(PartialSummary& s, const Tile& tile, double outlier_value, Scratch& scratch)
{
    const bool with_channels = s.channel_absmax.defined();
    const torch::Tensor& x = tile.values;
    auto [lo, hi] = at::aminmax(x);
    auto magnitude = scratch.get(Scratch::kMagnitude, x.sizes(), x.options());
    at::abs_out(magnitude, x);
    auto above = count_above(magnitude, outlier_value, scratch);
    auto nonzero = count_above(magnitude, 0.0, scratch);
    // Centred about this tile's mean; d^3 = d^2 * d and d^4 = d^2 * d^2 summed as products.
    const auto wide = x.options().dtype(torch::kFloat64);
    auto centred = scratch.get(Scratch::kWide, {x.numel()}, wide);
    centred.view(x.sizes()).copy_(x);
    auto mean = centred.mean();
    centred.sub_(mean);
    auto squared = scratch.get(Scratch::kSquared, {x.numel()}, wide);
    at::mul_out(squared, centred, centred);
    auto product = scratch.get(Scratch::kProduct, {x.numel()}, wide);
    auto m3 = at::mul_out(product, squared, centred).sum();
    auto m4 = at::mul_out(product, squared, squared).sum();
    const auto v = read_scalars({mean, squared.sum(), m3, m4, lo, hi, above, nonzero});

    s.moments = merge(s.moments, {double(x.numel()), v[0], v[1], v[2], v[3]});
    s.min = std::min(s.min, v[4]);
    s.max = std::max(s.max, v[5]);
    s.count_above += static_cast<std::int64_t>(v[6]);
    s.nonzero += static_cast<std::int64_t>(v[7]);
    if (!with_channels) return;
    auto absmax_slice = s.channel_absmax.narrow(0, tile.first_channel, x.size(1));
    at::maximum_out(absmax_slice, absmax_slice, magnitude.amax(0));
    s.channel_sum_abs.narrow(0, tile.first_channel, x.size(1)).add_(magnitude.sum(0));
}

std::vector<double> to_vector(const torch::Tensor& t)
{
    auto cpu = t.to(torch::kFloat64).cpu().contiguous();
    return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

// `lo` < `hi`.
BinnedCounts empty_bins(double lo, double hi, int bins)
{
    BinnedCounts h;
    h.edges.resize(static_cast<std::size_t>(bins) + 1);
    for (int i = 0; i <= bins; ++i)
        h.edges[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / bins;
    h.edges.back() = hi;  // exact upper edge despite rounding
    h.counts.assign(static_cast<std::size_t>(bins), 0.0);
    return h;
}

// [lo, hi] widened by 0.5 each side when empty, so the edges stay strictly increasing.
std::pair<double, double> histogram_range(double lo, double hi)
{
    if (hi <= lo) return {lo - 0.5, hi + 0.5};
    return {lo, hi};
}

// Adds the values to `counts`, bins of equal width over [lo, hi]; values outside (rounding, or
// -inf for log10 0) go to the end bins. Integer bincount: histc accumulates in float32, which
// stops counting past 2^24 per bin.
void add_to_counts(std::vector<std::int64_t>& counts, const torch::Tensor& values, double lo,
                   double hi, Scratch& scratch)
{
    const auto bins = static_cast<std::int64_t>(counts.size());
    auto scaled =
        scratch.get(Scratch::kWide, {values.numel()}, values.options().dtype(torch::kFloat64));
    scaled.view(values.sizes()).copy_(values);
    scaled.sub_(lo).mul_(double(bins) / (hi - lo)).clamp_(0, double(bins - 1));
    auto index =
        scratch.get(Scratch::kIndex, {values.numel()}, values.options().dtype(torch::kLong));
    index.copy_(scaled);  // truncation = floor on [0, bins - 1]
    auto c = at::bincount(index, /*weights=*/{}, bins).cpu().contiguous();
    const std::int64_t* p = c.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < bins; ++i)
        counts[static_cast<std::size_t>(i)] += p[i];
}

}  // namespace

CentredMoments merge(const CentredMoments& a, const CentredMoments& b)
{
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    CentredMoments r;
    r.n = a.n + b.n;
    const double delta = b.mean - a.mean;
    const double delta_n = delta / r.n;
    const double delta_n2 = delta_n * delta_n;
    const double cross = delta * delta_n * a.n * b.n;  // delta^2 nA nB / n
    r.mean = a.mean + delta_n * b.n;
    r.m2 = a.m2 + b.m2 + cross;
    r.m3 = a.m3 + b.m3 + cross * delta_n * (a.n - b.n) + 3.0 * delta_n * (a.n * b.m2 - b.n * a.m2);
    r.m4 = a.m4 + b.m4 + cross * delta_n2 * (a.n * a.n - a.n * b.n + b.n * b.n) +
           6.0 * delta_n2 * (a.n * a.n * b.m2 + b.n * b.n * a.m2) +
           4.0 * delta_n * (a.n * b.m3 - b.n * a.m3);
    return r;
}

namespace {

// Everything but the histograms, in tiles; the per-channel vectors only when `with_channels`.
MatrixSummary summarize_tiles(const torch::Tensor& x2d, double outlier_value, bool with_channels)
{
    std::vector<Tile> tiles;
    append_tiles(x2d, tiles);
    const auto channels_options = x2d.options().dtype(torch::kFloat64);
    std::vector<PartialSummary> partial(
        static_cast<std::size_t>(std::min<std::int64_t>(kRuns, std::int64_t(tiles.size()))));
    for_each_run(std::int64_t(tiles.size()),
                 [&](std::int64_t run, std::int64_t first, std::int64_t end, Scratch& scratch) {
                     PartialSummary& p = partial[static_cast<std::size_t>(run)];
                     if (with_channels) {
                         p.channel_absmax = torch::zeros({x2d.size(1)}, channels_options);
                         p.channel_sum_abs = torch::zeros({x2d.size(1)}, channels_options);
                     }
                     for (std::int64_t t = first; t < end; ++t)
                         add_tile(p, tiles[static_cast<std::size_t>(t)], outlier_value, scratch);
                 });

    PartialSummary total = std::move(partial.front());
    for (std::size_t r = 1; r < partial.size(); ++r) {
        const PartialSummary& p = partial[r];
        total.moments = merge(total.moments, p.moments);
        total.min = std::min(total.min, p.min);
        total.max = std::max(total.max, p.max);
        total.count_above += p.count_above;
        total.nonzero += p.nonzero;
        if (!with_channels) continue;
        at::maximum_out(total.channel_absmax, total.channel_absmax, p.channel_absmax);
        total.channel_sum_abs.add_(p.channel_sum_abs);
    }
    MatrixSummary s;
    s.moments = total.moments;
    s.min = total.min;
    s.max = total.max;
    s.count_above = total.count_above;
    s.zeros = x2d.numel() - total.nonzero;
    if (with_channels) {
        s.channel_absmax = to_vector(total.channel_absmax);
        s.channel_sum_abs = to_vector(total.channel_sum_abs);
    }
    return s;
}

}  // namespace

MatrixSummary summarize_matrix(const torch::Tensor& x2d, double outlier_value)
{
    if (x2d.scalar_type() != torch::kFloat32 || !kernels::channel_abs_stats_has_kernel(x2d))
        return summarize_matrix_tensor_ops(x2d, outlier_value);
    MatrixSummary s = summarize_tiles(x2d, outlier_value, /*with_channels=*/false);
    const auto channels = kernels::channel_abs_stats(x2d);
    s.channel_absmax = to_vector(channels.absmax);
    s.channel_sum_abs = to_vector(channels.sum_abs);
    return s;
}

MatrixSummary summarize_matrix_tensor_ops(const torch::Tensor& x2d, double outlier_value)
{
    return summarize_tiles(x2d, outlier_value, /*with_channels=*/true);
}

void fill_histograms(const std::vector<torch::Tensor>& pieces, int bins, int log_bins,
                     BinnedCounts& linear, BinnedCounts& log10_magnitude)
{
    std::vector<Tile> tiles;
    for (const auto& piece : pieces)
        append_tiles(piece, tiles);
    const auto tile_count = static_cast<std::int64_t>(tiles.size());
    const auto runs = static_cast<std::size_t>(std::min(kRuns, tile_count));

    // Pass 1: [min, max] and the extreme non-zero magnitudes (log10 is monotonic, so the log
    // range needs no logarithm of every element).
    struct Range {
        double min = kInf, max = -kInf, min_nonzero = kInf, max_abs = 0;
    };
    std::vector<Range> ranges(runs);
    for_each_run(tile_count,
                 [&](std::int64_t run, std::int64_t first, std::int64_t end, Scratch& scratch) {
                     Range& r = ranges[static_cast<std::size_t>(run)];
                     for (std::int64_t t = first; t < end; ++t) {
                         const torch::Tensor& x = tiles[static_cast<std::size_t>(t)].values;
                         auto [lo, hi] = at::aminmax(x);
                         auto magnitude = scratch.get(Scratch::kMagnitude, x.sizes(), x.options());
                         at::abs_out(magnitude, x);
                         auto max_abs = magnitude.amax();
                         auto min_nonzero = magnitude.masked_fill_(magnitude.eq(0), kInf).amin();
                         const auto v = read_scalars({lo, hi, min_nonzero, max_abs});
                         r = {std::min(r.min, v[0]), std::max(r.max, v[1]),
                              std::min(r.min_nonzero, v[2]), std::max(r.max_abs, v[3])};
                     }
                 });
    Range all;
    for (const Range& r : ranges)
        all = {std::min(all.min, r.min), std::max(all.max, r.max),
               std::min(all.min_nonzero, r.min_nonzero), std::max(all.max_abs, r.max_abs)};
    if (all.min > all.max) all.min = all.max = 0;  // no element at all
    const auto [lo, hi] = histogram_range(all.min, all.max);
    double log_lo = 0, log_hi = 0;  // no non-zero element: [-0.5, 0.5], all counts zero
    if (all.min_nonzero <= all.max_abs) {
        log_lo = std::log10(all.min_nonzero);
        log_hi = std::log10(all.max_abs);
    }
    const auto [l_lo, l_hi] = histogram_range(log_lo, log_hi);
    linear = empty_bins(lo, hi, bins);
    log10_magnitude = empty_bins(l_lo, l_hi, log_bins);

    // Pass 2: counts. log10 |0| = -inf lands in bin 0 and is taken out again.
    using Counts = std::vector<std::int64_t>;
    std::vector<Counts> linear_counts(runs, Counts(static_cast<std::size_t>(bins), 0));
    std::vector<Counts> log_counts(runs, Counts(static_cast<std::size_t>(log_bins), 0));
    for_each_run(
        tile_count, [&](std::int64_t run, std::int64_t first, std::int64_t end, Scratch& scratch) {
            Counts& linear_run = linear_counts[static_cast<std::size_t>(run)];
            Counts& log_run = log_counts[static_cast<std::size_t>(run)];
            for (std::int64_t t = first; t < end; ++t) {
                const torch::Tensor& x = tiles[static_cast<std::size_t>(t)].values;
                add_to_counts(linear_run, x, lo, hi, scratch);
                auto log_magnitude = scratch.get(Scratch::kMagnitude, x.sizes(), x.options());
                at::abs_out(log_magnitude, x);
                const auto nonzero = count_above(log_magnitude, 0.0, scratch).item<double>();
                add_to_counts(log_run, log_magnitude.log10_(), l_lo, l_hi, scratch);
                log_run[0] -= x.numel() - static_cast<std::int64_t>(nonzero);
            }
        });
    for (std::size_t r = 0; r < runs; ++r) {
        for (std::size_t b = 0; b < linear.counts.size(); ++b)
            linear.counts[b] += double(linear_counts[r][b]);
        for (std::size_t b = 0; b < log10_magnitude.counts.size(); ++b)
            log10_magnitude.counts[b] += double(log_counts[r][b]);
    }
}

}  // namespace qs::stats_detail
