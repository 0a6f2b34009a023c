// The CUDA in-block GPTQ kernel (core/kernels/gptq_block_cuda.cu, reached through
// solve_block_int_fast on CUDA tensors) against the CPU row loop it shares its arithmetic with:
// bit for bit, block by block. Before each block the GPU state gets the CPU state's W (the lazy
// update between blocks is a cuBLAS matmul, whose summation order is not the CPU's), then both
// solve the block from the same inputs. Also a whole GPTQ run on cuda:0 against the CPU run,
// within float32 tolerance (the factor and the lazy updates differ in order there).
#include <gtest/gtest.h>

#include "core/kernels/gptq_block.h"
#ifdef QS_CUDA
#include "core/kernels/gptq_block_cuda.h"
#endif
#include "core/quant/gptq.h"
#include "tests/core/gptq_block_fixture.h"

namespace {

using qs_test::bit_difference;
using qs_test::GptqBlockCase;

void check_blocks_on_gpu(const GptqBlockCase& c, std::int64_t blocksize)
{
    SCOPED_TRACE(c.name() + " blocksize " + std::to_string(blocksize));
    const auto problem = qs_test::make_gptq_block_problem(c);
    auto cpu = qs_test::make_block_state(problem, torch::kCPU);
    auto gpu = qs_test::make_block_state(problem, torch::Device(torch::kCUDA, 0));
    const auto cols = c.cols;
    for (std::int64_t i1 = 0; i1 < cols; i1 += blocksize) {
        const auto i2 = std::min(cols, i1 + blocksize);
        SCOPED_TRACE("block [" + std::to_string(i1) + ", " + std::to_string(i2) + ")");
        gpu->state.w.copy_(cpu->state.w);
        const auto err_cpu = qs::gptq_detail::solve_block_int_rows(cpu->state, i1, i2).clone();
        const auto err_gpu = qs::gptq_detail::solve_block_int_fast(gpu->state, i1, i2).cpu();
        EXPECT_EQ(bit_difference(err_cpu, err_gpu), "") << "Err1";
        EXPECT_EQ(bit_difference(cpu->state.q_t.slice(0, i1, i2), gpu->state.q_t.slice(0, i1, i2)),
                  "")
            << "Q";
        EXPECT_EQ(bit_difference(cpu->state.losses_t.slice(0, i1, i2),
                                 gpu->state.losses_t.slice(0, i1, i2)),
                  "")
            << "losses";
        EXPECT_EQ(bit_difference(cpu->groups.scales, gpu->groups.scales), "") << "scales";
        EXPECT_EQ(bit_difference(cpu->groups.zeros, gpu->groups.zeros), "") << "zeros";
        qs_test::lazy_update(cpu->state, i1, i2, err_cpu);
    }
    EXPECT_GT(cpu->state.losses_t.sum().item<double>(), 0.0);
}

TEST(GptqBlockCuda, KernelMatchesCpuRowLoopBitForBit)
{
    for (int bits : {2, 3, 4, 8})
        for (bool symmetric : {false, true})
            for (int group : {32, 128, 0}) {
                // 1000 rows: 16 thread blocks of 64 rows, the last one partial.
                const GptqBlockCase c{.rows = 1000,
                                      .cols = 384,
                                      .bits = bits,
                                      .symmetric = symmetric,
                                      .group = group,
                                      .seed = std::uint64_t(bits * 100 + group + symmetric)};
                check_blocks_on_gpu(c, 128);
            }
}

TEST(GptqBlockCuda, ActOrderGroupsAndBlockSizes)
{
    GptqBlockCase c{.rows = 333, .cols = 256, .group = 32, .static_shuffled = true};
    check_blocks_on_gpu(c, 128);
    // 16 columns: 1 KiB of shared memory; 200: 160 KB, above the 48 KiB default (opt-in path).
    c.static_shuffled = false;
    check_blocks_on_gpu(c, 16);
    check_blocks_on_gpu(c, 200);
    check_blocks_on_gpu({.rows = 1, .cols = 40}, 128);
}

// A block whose Hinv does not fit in shared memory (300 columns: 352 KB) runs the reference's
// tensor ops on the device instead: the same GPTQ, to float32 rounding.
TEST(GptqBlockCuda, OversizedBlockFallsBackToTensorOps)
{
    const GptqBlockCase c{.rows = 200, .cols = 300, .group = 64};
    const auto problem = qs_test::make_gptq_block_problem(c);
    auto cpu = qs_test::make_block_state(problem, torch::kCPU);
    auto gpu = qs_test::make_block_state(problem, torch::Device(torch::kCUDA, 0));
#ifdef QS_CUDA
    ASSERT_LT(qs::kernels::gptq_block_cuda_max_count(0), c.cols);
#endif
    qs::gptq_detail::solve_block_int_rows(cpu->state, 0, c.cols);
    qs::gptq_detail::solve_block_int_fast(gpu->state, 0, c.cols);
    const auto q_gpu = gpu->state.q_t.cpu();
    EXPECT_TRUE(gpu->state.losses_t.ge(0).all().item<bool>());  // every column written
    // A rounding decision may flip where the float32 orders differ: a few weights, not many.
    EXPECT_LT((q_gpu != cpu->state.q_t).to(torch::kFloat64).mean().item<double>(), 0.01);
    const double loss_cpu = cpu->state.losses_t.sum().item<double>();
    EXPECT_NEAR(gpu->state.losses_t.sum().item<double>(), loss_cpu, 1e-3 * loss_cpu);
}

// Whole runs: the CUDA path (factor, kernel, cuBLAS lazy updates on the device) is GPTQ too.
TEST(GptqBlockCuda, GptqOnCudaAgreesWithCpu)
{
    const auto [w, h] = qs_test::make_gptq_run_problem(11, 512, 384, 1024, {9, 12.0});
    const auto o = qs_test::int_gptq_options(4, 128, /*act_order=*/true);
    const auto on_cpu = qs::gptq_quantize(w, h, o);
    const auto on_gpu = qs::gptq_quantize(w.cuda(), h.cuda(), o);
    ASSERT_TRUE(on_gpu.weight.is_cuda());
    const double relative_error =
        std::abs(on_gpu.total_error - on_cpu.total_error) / on_cpu.total_error;
    EXPECT_LT(relative_error, 1e-2) << on_cpu.total_error << " vs " << on_gpu.total_error;
    // Rounding decisions may flip where the float32 orders differ: a few codes, not many.
    const auto flipped = (on_gpu.weight.cpu() != on_cpu.weight).to(torch::kFloat64).mean();
    EXPECT_LT(flipped.item<double>(), 0.05);
}

}  // namespace
