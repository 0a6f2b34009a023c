// The CPU loop and the CUDA glue of channel_stats_math.h. The CPU loop walks each token chunk
// row by row (contiguous channels, cache-friendly) with the per-element step the kernel's threads
// run down a column; chunks run in parallel, and combine adds them in chunk order.
#include "core/kernels/channel_stats.h"

#include <string>

#include "core/kernels/channel_stats_math.h"
#include "core/kernels/kernel_device.h"
#include "core/quant/gptq_internal.h"
#include "core/util/error.h"

#ifdef QS_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/kernels/channel_stats_cuda.h"
#endif

// Function multiversioning of the chunk loop (GCC on x86-64 ELF, whose default build targets
// baseline x86-64 = SSE2), as in fused_quant.cpp: SSE2, AVX2 and x86-64-v4 (AVX-512) copies, the
// loader picking the widest the CPU has. The loop only takes |x|, compares and adds in float64,
// each channel in token order, so every copy gives the same bits; the wider ones reach the
// memory bandwidth (one core, [256 x 11008] chunks: SSE2 5.2, AVX2 8.0, AVX-512 10.6 GB/s).
#ifndef QS_CHANNEL_STATS_CLONES
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && defined(__x86_64__) && \
    defined(__ELF__)
#define QS_CHANNEL_STATS_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define QS_CHANNEL_STATS_CLONES
#endif
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

// Chunk k into its chunk_absmax / chunk_sum rows, token by token (each channel in token order,
// as channel_stats_chunk). __restrict: the scratch rows and the input never overlap, so the
// channel loop vectorises without run-time overlap checks.
QS_CHANNEL_STATS_CLONES
void chunk_cpu(const ChannelStatsArgs& a, std::int64_t k)
{
    float* __restrict m = a.chunk_absmax + k * a.channels;
    double* __restrict s = a.chunk_sum + k * a.channels;
    for (std::int64_t c = 0; c < a.channels; ++c) {
        m[c] = 0.0f;
        s[c] = 0.0;
    }
    const auto end = channel_stats_chunk_end(a.tokens, k);
    for (auto t = k * kChannelStatsChunk; t < end; ++t) {
        const float* __restrict row = a.x + t * a.stride;
        for (std::int64_t c = 0; c < a.channels; ++c)
            channel_stats_step(m[c], s[c], row[c]);
    }
}

void run_cpu(const ChannelStatsArgs& a)
{
    const auto chunks = channel_stats_chunks(a.tokens);
    gptq_detail::parallel_chunks(chunks, 1, [&](std::int64_t k0, std::int64_t k1) {
        for (auto k = k0; k < k1; ++k)
            chunk_cpu(a, k);
    });
    for (std::int64_t c = 0; c < a.channels; ++c)
        channel_stats_combine(a, c);
}

}  // namespace

bool channel_abs_stats_has_kernel(const torch::Tensor& x)
{
    return device_has_kernel(x);
}

ChannelAbsStats channel_abs_stats(const torch::Tensor& x2d)
{
    if (!x2d.defined() || x2d.dim() != 2 || x2d.scalar_type() != torch::kFloat32)
        throw QsError("channel_abs_stats: need a [tokens, channels] float32 matrix");
    const bool on_cpu = x2d.is_cpu();
    if (!channel_abs_stats_has_kernel(x2d)) {
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
