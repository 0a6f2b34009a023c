// The CPU loop and the CUDA glue of channel_stats_math.h. The CPU loop walks each token chunk
// row by row (contiguous channels, cache-friendly) with the per-element step the kernel's threads
// run down a column; chunks run in parallel, and combine adds them in chunk order.
#include "core/kernels/channel_stats.h"

#include <string>

#include "core/kernels/channel_stats_math.h"
#include "core/quant/gptq_internal.h"
#include "core/util/error.h"

#ifdef QS_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/kernels/channel_stats_cuda.h"
#endif

namespace qs::kernels {
namespace {

ChannelStatsArgs make_args(const torch::Tensor& x, const torch::Tensor& chunk_absmax,
                           const torch::Tensor& chunk_sum, const ChannelAbsStats& out)
{
    ChannelStatsArgs a;
    a.x = x.data_ptr<float>();
    a.tokens = x.size(0);
    a.channels = x.size(1);
    a.stride = x.stride(0);
    a.chunk_absmax = chunk_absmax.data_ptr<float>();
    a.chunk_sum = chunk_sum.data_ptr<double>();
    a.absmax = out.absmax.data_ptr<float>();
    a.sum_abs = out.sum_abs.data_ptr<double>();
    return a;
}

void run_cpu(const ChannelStatsArgs& a)
{
    const auto chunks = channel_stats_chunks(a.tokens);
    gptq_detail::parallel_chunks(chunks, 1, [&](std::int64_t k0, std::int64_t k1) {
        for (auto k = k0; k < k1; ++k) {
            float* m = a.chunk_absmax + k * a.channels;
            double* s = a.chunk_sum + k * a.channels;
            for (std::int64_t c = 0; c < a.channels; ++c) {
                m[c] = 0.0f;
                s[c] = 0.0;
            }
            const auto end = channel_stats_chunk_end(a.tokens, k);
            for (auto t = k * kChannelStatsChunk; t < end; ++t) {
                const float* row = a.x + t * a.stride;
                for (std::int64_t c = 0; c < a.channels; ++c)
                    channel_stats_step(m[c], s[c], row[c]);
            }
        }
    });
    for (std::int64_t c = 0; c < a.channels; ++c)
        channel_stats_combine(a, c);
}

}  // namespace

ChannelAbsStats channel_abs_stats(const torch::Tensor& x2d)
{
    if (!x2d.defined() || x2d.dim() != 2 || x2d.scalar_type() != torch::kFloat32)
        throw QsError("channel_abs_stats: need a [tokens, channels] float32 matrix");
    const bool on_cpu = x2d.is_cpu();
#ifdef QS_CUDA
    const bool on_cuda = x2d.is_cuda();
#else
    const bool on_cuda = false;
#endif
    if (!on_cpu && !on_cuda) {
        auto r = channel_abs_stats(x2d.cpu());
        return {r.absmax.to(x2d.device()), r.sum_abs.to(x2d.device())};
    }
    auto x = x2d.stride(1) == 1 ? x2d : x2d.contiguous();
    const auto channels = x.size(1);
    const auto chunks = channel_stats_chunks(x.size(0));
    auto f32 = x.options().dtype(torch::kFloat32);
    auto f64 = x.options().dtype(torch::kFloat64);
    ChannelAbsStats out{torch::empty({channels}, f32), torch::empty({channels}, f64)};
    auto chunk_absmax = torch::empty({chunks, channels}, f32);
    auto chunk_sum = torch::empty({chunks, channels}, f64);
    const auto args = make_args(x, chunk_absmax, chunk_sum, out);
    if (on_cpu) {
        run_cpu(args);
        return out;
    }
#ifdef QS_CUDA
    const c10::cuda::CUDAGuard guard(x.device());
    const auto status =
        channel_stats_cuda(args, c10::cuda::getCurrentCUDAStream(x.device().index()).stream());
    if (status != cudaSuccess)
        throw QsError(std::string("channel_abs_stats CUDA kernel: ") + cudaGetErrorString(status));
#endif
    return out;
}

}  // namespace qs::kernels
