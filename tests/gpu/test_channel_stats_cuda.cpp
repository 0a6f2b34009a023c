// The per-channel absmax / sum |x| kernel (core/kernels/channel_stats_cuda.cu) against the CPU
// loop it shares channel_stats_math.h with: the same bits, absmax and the float64 sums, on
// batches of one to many 256-token chunks, strided and with NaN; and ActivationStatsAccumulator,
// which reduces its channels with the kernel on either device: the same per-channel statistics
// from a CUDA batch as from its CPU copy.
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "core/analysis/tensor_stats.h"
#include "core/kernels/channel_stats.h"
#include "tests/core/gptq_block_fixture.h"

namespace {

bool same_bits_f64(const torch::Tensor& a, const torch::Tensor& b)
{
    auto x = a.cpu().contiguous(), y = b.cpu().contiguous();
    return x.sizes() == y.sizes() &&
           std::memcmp(x.data_ptr<double>(), y.data_ptr<double>(), x.numel() * sizeof(double)) == 0;
}

void check_on_gpu(const torch::Tensor& x_cpu)
{
    SCOPED_TRACE("[" + std::to_string(x_cpu.size(0)) + ", " + std::to_string(x_cpu.size(1)) + "]");
    const auto cpu = qs::kernels::channel_abs_stats(x_cpu);
    const auto gpu = qs::kernels::channel_abs_stats(x_cpu.cuda());
    ASSERT_TRUE(gpu.absmax.is_cuda());
    EXPECT_EQ(qs_test::bit_difference(cpu.absmax, gpu.absmax), "");
    EXPECT_TRUE(same_bits_f64(cpu.sum_abs, gpu.sum_abs));
}

TEST(ChannelStatsCuda, KernelMatchesCpuLoopBitForBit)
{
    torch::manual_seed(9);
    for (std::int64_t tokens : {1, 256, 1000, 8193})
        check_on_gpu(torch::randn({tokens, 4096}) * 3.0);
    auto wide = torch::randn({3000, 700});
    wide[17][5] = std::numeric_limits<float>::quiet_NaN();
    check_on_gpu(wide);
    // Strided on the GPU itself (the token stride is passed to the kernel).
    auto on_gpu = wide.cuda();
    const auto strided_cpu = qs::kernels::channel_abs_stats(wide.slice(0, 0, 3000, 3));
    const auto strided_gpu = qs::kernels::channel_abs_stats(on_gpu.slice(0, 0, 3000, 3));
    EXPECT_EQ(qs_test::bit_difference(strided_cpu.absmax, strided_gpu.absmax), "");
    EXPECT_TRUE(same_bits_f64(strided_cpu.sum_abs, strided_gpu.sum_abs));
}

TEST(ChannelStatsCuda, AccumulatorGivesTheCpuChannelStatistics)
{
    torch::manual_seed(10);
    auto x = torch::randn({2, 1001, 512}) * 2.0;  // 2002 tokens: a partial last chunk
    qs::ActivationStatsAccumulator on_cpu(512), on_gpu(512);
    on_cpu.add(x);
    on_gpu.add(x.cuda());
    on_gpu.add(x.cuda().to(torch::kBFloat16));  // bf16 compute dtype: to float32 on the GPU
    on_cpu.add(x.to(torch::kBFloat16));
    const auto a = on_cpu.finish(), b = on_gpu.finish();
    EXPECT_EQ(a.in_absmax, b.in_absmax);
    EXPECT_EQ(a.in_mean_abs, b.in_mean_abs);
    EXPECT_EQ(a.top_channels, b.top_channels);
}

}  // namespace
