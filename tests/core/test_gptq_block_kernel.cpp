// The scalar row loop of GPTQ's INT in-block solver (core/kernels/gptq_block_math.h, the
// arithmetic the CUDA kernel runs) against the reference loop and the vectorised CPU solver: bit
// for bit on every output (Q, the losses, Err1 of every block, the refreshed group parameters,
// the final W), over bit widths, symmetric and asymmetric, per-channel, dynamic and static
// act-order groups, and row counts that are not a multiple of the vectorised solver's 16 lanes.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/kernels/gptq_block.h"
#include "core/quant/gptq.h"
#include "core/quant/int_quantizer.h"
#include "tests/core/gptq_block_fixture.h"

namespace {

using qs::gptq_detail::BlockSolver;
using qs::gptq_detail::BlockState;
using qs::gptq_detail::FactorMethod;
using qs_test::bit_difference;
using qs_test::GptqBlockCase;

constexpr std::int64_t kBlocksize = 128;

struct SolverRun {
    std::unique_ptr<qs_test::OwnedBlockState> owned;
    std::vector<torch::Tensor> errors;
};

SolverRun run_solver(const qs_test::GptqBlockProblem& problem, const qs_test::BlockSolverFn& solve,
                     std::int64_t blocksize = kBlocksize)
{
    SolverRun run;
    run.owned = qs_test::make_block_state(problem, torch::kCPU);
    run.errors = qs_test::run_gptq_blocks(run.owned->state, blocksize, solve);
    return run;
}

// Every output of `b` holds the bits of `a`'s.
void expect_same_run(const SolverRun& a, const SolverRun& b, const std::string& what)
{
    const auto& sa = a.owned->state;
    const auto& sb = b.owned->state;
    EXPECT_EQ(bit_difference(sa.q_t, sb.q_t), "") << what << ": Q";
    EXPECT_EQ(bit_difference(sa.losses_t, sb.losses_t), "") << what << ": losses";
    EXPECT_EQ(bit_difference(sa.w, sb.w), "") << what << ": W after the lazy updates";
    EXPECT_EQ(bit_difference(a.owned->groups.scales, b.owned->groups.scales), "") << what;
    EXPECT_EQ(bit_difference(a.owned->groups.zeros, b.owned->groups.zeros), "") << what;
    ASSERT_EQ(a.errors.size(), b.errors.size()) << what;
    for (std::size_t k = 0; k < a.errors.size(); ++k)
        EXPECT_EQ(bit_difference(a.errors[k], b.errors[k]), "") << what << ": Err1 of block " << k;
}

void check_case(const GptqBlockCase& c, std::int64_t blocksize = kBlocksize)
{
    SCOPED_TRACE(c.name() + " blocksize " + std::to_string(blocksize));
    const auto problem = qs_test::make_gptq_block_problem(c);
    const auto rows = run_solver(problem, qs::gptq_detail::solve_block_int_rows, blocksize);
    const auto reference =
        run_solver(problem, qs::gptq_detail::solve_block_int_reference, blocksize);
    const auto fast = run_solver(problem, qs::gptq_detail::solve_block_int_fast, blocksize);
    expect_same_run(reference, rows, "rows vs reference");
    expect_same_run(fast, rows, "rows vs fast");
    // Not vacuous: every column was written (the states start at -1), quantization changed the
    // weights, and every Q is on its row's grid: Q / scale + zero an integer in [0, maxq].
    const auto& groups = rows.owned->groups;
    const auto q = rows.owned->state.q_t.t();
    EXPECT_TRUE(rows.owned->state.losses_t.ge(0).all().item<bool>());
    EXPECT_GT((q - problem.w).abs().max().item<double>(), 0.0);
    const auto group_index = torch::tensor(groups.group_of, torch::kInt64);
    const auto code =
        q / groups.scales.index_select(1, group_index) + groups.zeros.index_select(1, group_index);
    const auto level = code.round();
    EXPECT_LT((code - level).abs().max().item<double>(), 1e-3);
    EXPECT_GE(level.min().item<double>(), 0.0);
    EXPECT_LE(level.max().item<double>(), double((1 << c.bits) - 1));
}

TEST(GptqBlockKernel, RowLoopMatchesReferenceAndFastBitForBit)
{
    for (int bits : {2, 3, 4, 8})
        for (bool symmetric : {false, true})
            for (int group : {32, 128, 0})
                for (std::int64_t rows : {37, 100}) {
                    // 200 columns: blocks of 128 and 72 columns, a partial last group.
                    check_case(
                        {.rows = rows,
                         .cols = 200,
                         .bits = bits,
                         .symmetric = symmetric,
                         .group = group,
                         .seed = std::uint64_t(bits * 1000 + group * 10 + symmetric + rows)});
                }
}

TEST(GptqBlockKernel, StaticActOrderGroupsOddSizesAndBlocksizes)
{
    // Static groups in a shuffled order: the group changes from one column to the next.
    for (bool symmetric : {false, true})
        check_case({.rows = 53,
                    .cols = 160,
                    .symmetric = symmetric,
                    .group = 32,
                    .static_shuffled = true});
    check_case({.rows = 1, .cols = 70, .bits = 3}, 32);       // blocks of 32, 32, 6
    check_case({.rows = 17, .cols = 300, .group = 64}, 300);  // one block of the whole row
}

// gptq_quantize_with dispatches the Rows solver: whole runs equal the vectorised solver's.
TEST(GptqBlockKernel, GptqRunWithRowSolverEqualsFastSolver)
{
    const auto [w, h] = qs_test::make_gptq_run_problem(7, 45, 192, 400, {5, 15.0});
    for (bool act_order : {false, true})
        for (int group : {0, 64}) {
            auto o = qs_test::int_gptq_options(4, group, act_order);
            o.static_groups = act_order;
            o.blocksize = 100;
            SCOPED_TRACE("act_order " + std::to_string(act_order) + " group " +
                         std::to_string(group));
            const auto fast = qs::gptq_detail::gptq_quantize_with(w, h, o, BlockSolver::Fast,
                                                                  FactorMethod::Blocked);
            const auto rows = qs::gptq_detail::gptq_quantize_with(w, h, o, BlockSolver::Rows,
                                                                  FactorMethod::Blocked);
            EXPECT_EQ(bit_difference(fast.weight, rows.weight), "");
            EXPECT_EQ(bit_difference(fast.losses, rows.losses), "");
            EXPECT_EQ(fast.total_error, rows.total_error);
            EXPECT_GT(rows.total_error, 0.0);
        }
}

// The scalar quantizer is torch's: round half to even with the sign kept, clamp, dequantize.
TEST(GptqBlockKernel, ScalarQuantizerEqualsTorch)
{
    const std::vector<float> tricky = {0.5f,      1.5f,       2.5f,      -0.5f,  -2.5f,
                                       -0.4f,     -0.0f,      0.0f,      1e-30f, 8388607.5f,
                                       8388608.f, 16777217.f, -3.49999f, 1e20f,  -1e20f};
    auto x = torch::tensor(tricky);
    auto expected = torch::round(x);
    for (std::int64_t i = 0; i < x.numel(); ++i) {
        const float got = qs::kernels::round_half_even(tricky[std::size_t(i)]);
        EXPECT_EQ(bit_difference(torch::tensor({got}), expected.slice(0, i, i + 1)), "")
            << "round(" << tricky[std::size_t(i)] << ")";
    }
    EXPECT_TRUE(std::isnan(qs::kernels::round_half_even(std::numeric_limits<float>::quiet_NaN())));

    torch::manual_seed(3);
    const auto w = torch::randn({64, 96}) * 0.05;
    for (int bits : {2, 4, 8})
        for (bool symmetric : {false, true}) {
            auto params = qs::int_find_params(w, bits, symmetric);
            auto expected_q = qs::int_quantize_dequantize(w, params);
            auto got = torch::empty_like(w);
            const auto maxq = static_cast<float>((1 << bits) - 1);
            const auto wa = w.accessor<float, 2>();
            const auto sa = params.scale.accessor<float, 2>();
            const auto za = params.zero.accessor<float, 2>();
            auto ga = got.accessor<float, 2>();
            for (std::int64_t r = 0; r < w.size(0); ++r)
                for (std::int64_t c = 0; c < w.size(1); ++c)
                    ga[r][c] = qs::kernels::gptq_int_quantize(wa[r][c], sa[r][0], za[r][0], maxq);
            EXPECT_EQ(bit_difference(expected_q, got), "") << bits << " bits sym " << symmetric;
        }
}

}  // namespace
