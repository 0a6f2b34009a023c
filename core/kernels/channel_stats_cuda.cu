// Per-channel absmax and sum |x| on the GPU: threads of a warp take adjacent channels of the same
// chunk, so each token row is read coalesced; the arithmetic is channel_stats_math.h's, in its
// order, hence the CPU loop's bits.
#include "core/kernels/channel_stats_cuda.h"

namespace qs::kernels {
namespace {

constexpr int kThreadsPerBlock = 128;

__global__ void channel_chunks_kernel(ChannelStatsArgs a)
{
    const std::int64_t c = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c < a.channels) channel_stats_chunk(a, blockIdx.y, c);
}

__global__ void channel_combine_kernel(ChannelStatsArgs a)
{
    const std::int64_t c = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c < a.channels) channel_stats_combine(a, c);
}

}  // namespace

cudaError_t channel_stats_cuda(const ChannelStatsArgs& args, cudaStream_t stream)
{
    if (args.channels <= 0) return cudaSuccess;
    const auto blocks =
        static_cast<unsigned>((args.channels + kThreadsPerBlock - 1) / kThreadsPerBlock);
    const auto chunks = channel_stats_chunks(args.tokens);
    if (chunks > 65535) return cudaErrorInvalidValue;  // grid y limit: 16 M tokens per call
    if (chunks > 0) {
        channel_chunks_kernel<<<dim3(blocks, static_cast<unsigned>(chunks)), kThreadsPerBlock, 0,
                                stream>>>(args);
        const auto status = cudaGetLastError();
        if (status != cudaSuccess) return status;
    }
    channel_combine_kernel<<<blocks, kThreadsPerBlock, 0, stream>>>(args);
    return cudaGetLastError();
}

}  // namespace qs::kernels
