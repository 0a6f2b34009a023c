// Small CPU helpers of the GPTQ implementation: a parallel loop that works without OpenMP, a
// finiteness check and the final transpose back to [rows, cols] in the original column order.
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "core/quant/gptq_internal.h"

namespace qs::gptq_detail {
namespace {

// Elements per task of all_finite, and its independent partial sums.
constexpr std::int64_t kFiniteGrain = 1 << 18;
constexpr int kFiniteLanes = 16;
// Square tiles of the transpose (a tile of each side fits in L1).
constexpr std::int64_t kTransposeTile = 32;

}  // namespace

void parallel_chunks(std::int64_t n, std::int64_t grain,
                     const std::function<void(std::int64_t, std::int64_t)>& f)
{
#ifdef INTRA_OP_PARALLEL
    at::parallel_for(0, n, grain, f);
#else
    const auto chunks = std::min<std::int64_t>(at::get_num_threads(), (n + grain - 1) / grain);
    if (chunks <= 1) {
        if (n > 0) f(0, n);
        return;
    }
    const auto size = (n + chunks - 1) / chunks;
    std::vector<std::thread> threads;
    for (std::int64_t c = 1; c < chunks; ++c)
        threads.emplace_back(f, c * size, std::min(n, (c + 1) * size));
    f(0, size);
    for (auto& t : threads)
        t.join();
#endif
}

bool all_finite(const torch::Tensor& t)
{
    if (!t.is_cpu() || t.scalar_type() != torch::kFloat32 || !t.is_contiguous())
        return torch::isfinite(t).all().item<bool>();
    const float* p = t.data_ptr<float>();
    std::atomic<bool> finite{true};
    parallel_chunks(t.numel(), kFiniteGrain, [&](std::int64_t begin, std::int64_t end) {
        // x * 0 is +-0 for finite x and NaN for Inf and NaN; independent sums per lane let
        // the loop vectorise without reassociation.
        float acc[kFiniteLanes] = {};
        auto i = begin;
        for (; i + kFiniteLanes <= end; i += kFiniteLanes)
            for (int l = 0; l < kFiniteLanes; ++l)
                acc[l] += p[i + l] * 0.0f;
        for (; i < end; ++i)
            acc[0] += p[i] * 0.0f;
        for (int l = 0; l < kFiniteLanes; ++l)
            if (!(acc[l] == 0.0f)) finite = false;
    });
    return finite;
}

void transpose_into(const torch::Tensor& t, torch::Tensor& out)
{
    if (!t.is_cpu() || t.scalar_type() != torch::kFloat32 || !t.is_contiguous() ||
        out.scalar_type() != torch::kFloat32 || out.stride(1) != 1) {
        out.copy_(t.t());
        return;
    }
    const auto cols = t.size(0), rows = t.size(1);
    const auto out_stride = out.stride(0);
    const float* src = t.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const auto col_tiles = (cols + kTransposeTile - 1) / kTransposeTile;
    // Tiles of kTransposeTile x kTransposeTile; the inner loop writes contiguously.
    parallel_chunks(col_tiles, 1, [&](std::int64_t tile0, std::int64_t tile1) {
        for (auto tile = tile0; tile < tile1; ++tile) {
            const auto j0 = tile * kTransposeTile, j1 = std::min(cols, j0 + kTransposeTile);
            for (std::int64_t r0 = 0; r0 < rows; r0 += kTransposeTile) {
                const auto r1 = std::min(rows, r0 + kTransposeTile);
                for (auto r = r0; r < r1; ++r) {
                    float* out_row = dst + r * out_stride;
                    for (auto j = j0; j < j1; ++j)
                        out_row[j] = src[j * rows + r];
                }
            }
        }
    });
}

}  // namespace qs::gptq_detail
