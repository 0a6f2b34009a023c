// GPTQ properties on random data: the optimised block solver against the reference one, the
// micro-block solver with B2 = 1 against plain GPTQ, dead columns, the damping retry, cancellation,
// the loss identity sum(losses) = 1/2 tr((W-Q) H_damped (W-Q)^T), GPTQ <= RTN (INT and MX), and
// option checks.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/quant/gptq.h"
#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace {

using qs::gptq_detail::BlockSolver;
using qs::gptq_detail::FactorMethod;
using qs::gptq_detail::gptq_quantize_with;

constexpr double kSameRelTolerance = 1e-5;         // fast vs reference, relative to max |W|
constexpr double kLossIdentityTolerance = 1e-3;    // float32 run vs the exact quadratic form
constexpr double kFactorRelTolerance = 1e-5;       // blocked vs reference Hinv, Frobenius
constexpr double kFactorIdentityTolerance = 1e-3;  // max |U H U^T - I|

// H from `tokens` rows of N(0, 1) activations, a few outlier channels scaled up, `dead`
// channels all zero.
torch::Tensor random_hessian(std::int64_t cols, std::int64_t tokens, std::uint64_t seed,
                             const std::vector<std::int64_t>& dead = {})
{
    torch::manual_seed(seed);
    auto x = torch::randn({1, tokens, cols});
    x.select(2, 3).mul_(20.0);
    x.select(2, cols / 2).mul_(8.0);
    for (auto d : dead)
        x.select(2, d).zero_();
    qs::HessianAccumulator acc(cols);
    acc.add_batch(x);
    return acc.hessian().clone();
}

torch::Tensor random_weight(std::int64_t rows, std::int64_t cols, std::uint64_t seed)
{
    torch::manual_seed(seed);
    return torch::randn({rows, cols}) * 0.02;
}

qs::GptqOptions int_options(int bits, bool sym, int group, bool act_order = false,
                            bool static_groups = false, int blocksize = 128, bool mse = false)
{
    qs::GptqOptions o;
    o.format.kind = qs::FormatKind::Int;
    o.format.bits = bits;
    o.format.symmetric = sym;
    o.format.granularity = group > 0 ? qs::Granularity::Group : qs::Granularity::Channel;
    o.format.group_size = std::max(group, 0);
    o.format.mse = mse;
    o.act_order = act_order;
    o.static_groups = static_groups;
    o.blocksize = blocksize;
    return o;
}

qs::GptqOptions mx_options(qs::MxElement element, int block, int micro_block)
{
    qs::GptqOptions o;
    o.format.kind = qs::FormatKind::Mx;
    o.format.element = element;
    o.format.block_size = block;
    o.mx_micro_block = micro_block;
    return o;
}

// tr((W - Q) H (W - Q)^T) in float64.
double quadratic_loss(const torch::Tensor& w, const torch::Tensor& q, const torch::Tensor& h)
{
    auto d = (w - q).to(torch::kFloat64);
    return (d.mm(h.to(torch::kFloat64)) * d).sum().item<double>();
}

// H after the dead-column fix and the damping GPTQ used.
torch::Tensor damped(const torch::Tensor& h, const qs::GptqResult& r)
{
    auto hd = h.clone();
    hd.diagonal().copy_(r.hessian_diag);
    hd.diagonal().add_(r.damping);
    return hd;
}

double max_abs(const torch::Tensor& t)
{
    return t.abs().max().item<double>();
}

TEST(GptqProperties, FastSolverMatchesReference)
{
    const auto w = random_weight(48, 320, 1);  // 320 columns: a partial last block
    const auto h = random_hessian(320, 640, 2, {11});
    const std::vector<std::pair<std::string, qs::GptqOptions>> cases = {
        {"w4 asym channel", int_options(4, false, 0)},
        {"w3 sym channel act-order", int_options(3, true, 0, true)},
        {"w8 sym channel", int_options(8, true, 0)},
        {"w4 asym g32", int_options(4, false, 32)},
        {"w4 asym g48 act-order b64", int_options(4, false, 48, true, false, 64)},
        {"w4 asym g64 act-order static", int_options(4, false, 64, true, true)},
        {"w3 asym g256 b64", int_options(3, false, 256, false, false, 64)},
        {"w4 sym g32 mse", int_options(4, true, 32, false, false, 128, true)},
    };
    for (const auto& [name, options] : cases) {
        SCOPED_TRACE(name);
        // The same factor for both: the block solvers alone are compared.
        const auto fast =
            gptq_quantize_with(w, h, options, BlockSolver::Fast, FactorMethod::Blocked);
        const auto ref =
            gptq_quantize_with(w, h, options, BlockSolver::Reference, FactorMethod::Blocked);
        const double dq = max_abs(fast.weight - ref.weight);
        const double dl = max_abs(fast.losses - ref.losses);
        std::printf("%-30s max |dQ| %.3g  max |dloss| %.3g  identical Q: %s\n", name.c_str(), dq,
                    dl, torch::equal(fast.weight, ref.weight) ? "yes" : "no");
        EXPECT_LE(dq, kSameRelTolerance * max_abs(w));
        EXPECT_LE(dl, kSameRelTolerance * max_abs(ref.losses));
        EXPECT_NEAR(fast.total_error, ref.total_error, kSameRelTolerance * ref.total_error);
        EXPECT_TRUE(torch::equal(fast.g_idx, ref.g_idx));
        EXPECT_LE(max_abs(fast.scales - ref.scales), kSameRelTolerance * max_abs(ref.scales));
        EXPECT_TRUE(torch::equal(fast.zeros, ref.zeros));
        if (options.act_order) EXPECT_TRUE(torch::equal(fast.perm, ref.perm));
    }
}

TEST(GptqProperties, TiesRoundHalfToEvenAsTorch)
{
    // Multiples of 0.5 in [-3.5, 3.5], every row holding 3.5: 3-bit symmetric gives scale 1, so
    // w / scale hits every tie; a diagonal H makes GPTQ plain round-to-nearest.
    torch::manual_seed(30);
    auto w = (torch::randint(-7, 8, {40, 96}) * 0.5).to(torch::kFloat32);
    w.select(1, 0).fill_(3.5f);
    const auto h = torch::diag(torch::rand({96}) + 1.0);
    const auto options = int_options(3, true, 0);
    const auto rtn = qs::int_fake_quantize_groups(w, 3, true, 0);
    for (auto solver : {BlockSolver::Fast, BlockSolver::Reference}) {
        const auto r = gptq_quantize_with(w, h, options, solver, FactorMethod::Blocked);
        EXPECT_TRUE(torch::equal(r.weight, rtn)) << (solver == BlockSolver::Fast ? "fast" : "ref");
    }
}

TEST(GptqProperties, BlockedFactorMatchesReferenceChain)
{
    // Sizes around the tile size: one tile, a partial last tile, several tiles.
    for (std::int64_t n : {40, 64, 200, 333}) {
        SCOPED_TRACE("n = " + std::to_string(n));
        auto h = random_hessian(n, 4 * n, 20 + n);
        h.diagonal().add_(0.01 * h.diagonal().mean());
        const auto ref = qs::gptq_detail::upper_cholesky_of_inverse_reference(h);
        const auto blocked = qs::gptq_detail::upper_cholesky_of_inverse_blocked(h, 64);
        ASSERT_TRUE(ref.defined() && blocked.defined());
        const double nrm = ((blocked - ref).norm() / ref.norm()).item<double>();
        const auto u = blocked.to(torch::kFloat64);
        const double identity_err =
            max_abs(u.mm(h.to(torch::kFloat64)).mm(u.t()) - torch::eye(n, torch::kFloat64));
        std::printf(
            "factor n=%lld: |U_blocked - U_ref| / |U_ref| = %.3g, max |U H U^T - I| = %.3g\n",
            static_cast<long long>(n), nrm, identity_err);
        EXPECT_LT(nrm, kFactorRelTolerance);
        EXPECT_LT(identity_err, kFactorIdentityTolerance);
        EXPECT_EQ(max_abs(blocked.tril(-1)), 0.0);  // upper triangular
    }
    // Not positive definite: both report failure instead of a factor.
    auto indefinite = torch::eye(100);
    indefinite[70][70] = -1.0;
    EXPECT_FALSE(qs::gptq_detail::upper_cholesky_of_inverse_reference(indefinite).defined());
    EXPECT_FALSE(qs::gptq_detail::upper_cholesky_of_inverse_blocked(indefinite, 32).defined());
}

TEST(GptqProperties, EndToEndMatchesReferenceImplementation)
{
    // gptq_quantize (fast solver, blocked factor) against the reference solver and the
    // reference factor chain: only float32 rounding in Hinv differs.
    const auto w = random_weight(64, 512, 21);
    const auto h = random_hessian(512, 1024, 22, {9});
    for (const auto& options : {int_options(4, false, 128), int_options(3, true, 64, true)}) {
        const auto fast = qs::gptq_quantize(w, h, options);
        const auto ref =
            gptq_quantize_with(w, h, options, BlockSolver::Reference, FactorMethod::Reference);
        const double same = (fast.weight - ref.weight)
                                .abs()
                                .le(kSameRelTolerance * max_abs(w))
                                .to(torch::kFloat64)
                                .mean()
                                .item<double>();
        std::printf("end to end: fraction of Q equal %.5f, total loss %.6g vs %.6g\n", same,
                    fast.total_error, ref.total_error);
        EXPECT_GE(same, 0.999);
        EXPECT_NEAR(fast.total_error, ref.total_error, 1e-4 * ref.total_error);
    }
}

TEST(GptqProperties, MicroBlockOfOneColumnIsPlainGptq)
{
    const auto w = random_weight(40, 256, 3);
    const auto h = random_hessian(256, 512, 4);
    for (bool sym : {false, true}) {
        SCOPED_TRACE(sym ? "sym" : "asym");
        auto options = int_options(4, sym, 0);
        options.mx_micro_block = 1;
        const auto plain =
            gptq_quantize_with(w, h, options, BlockSolver::Fast, FactorMethod::Blocked);
        const auto micro =
            gptq_quantize_with(w, h, options, BlockSolver::MicroBlock, FactorMethod::Blocked);
        const double same =
            (micro.weight - plain.weight).abs().le(1e-7).to(torch::kFloat64).mean().item<double>();
        std::printf("B2 = 1 (%s): fraction of Q equal %.5f, total loss %.6g vs %.6g\n",
                    sym ? "sym" : "asym", same, micro.total_error, plain.total_error);
        EXPECT_GE(same, 0.999);
        EXPECT_NEAR(micro.total_error, plain.total_error, 1e-4 * plain.total_error);
    }
}

TEST(GptqProperties, DeadColumnsAreZeroed)
{
    const std::vector<std::int64_t> dead = {0, 7, 130};
    const auto w = random_weight(32, 192, 5);
    const auto h = random_hessian(192, 400, 6, dead);
    for (bool act_order : {false, true}) {
        SCOPED_TRACE(act_order ? "act-order" : "in order");
        const auto r = qs::gptq_quantize(w, h, int_options(4, false, 64, act_order));
        EXPECT_TRUE(torch::isfinite(r.weight).all().item<bool>());
        for (auto d : dead) {
            EXPECT_EQ(max_abs(r.weight.select(1, d)), 0.0) << "column " << d;
            EXPECT_EQ(r.column_error[d].item<double>(), 0.0) << "column " << d;
            EXPECT_EQ(r.hessian_diag[d].item<float>(), 1.0f) << "column " << d;
        }
        EXPECT_GT(r.column_error[1].item<double>(), 0.0);
    }
}

TEST(GptqProperties, DampingRetryOnSingularHessian)
{
    // Rank one with small integers and v_0 = 1: every step of the Cholesky is exact, so the
    // second pivot is exactly 0 and the undamped factorisation must fail.
    const std::int64_t cols = 64;
    auto v = torch::randint(1, 4, {cols}, torch::TensorOptions().dtype(torch::kFloat32));
    v.mul_(torch::where(torch::rand({cols}) < 0.5, -1.0, 1.0));
    v[0] = 1.0;
    const auto h = torch::outer(v, v);
    const auto w = random_weight(16, cols, 7);

    auto options = int_options(4, false, 0);
    options.percdamp = 0.0;
    const auto r = qs::gptq_quantize(w, h, options);
    EXPECT_GE(r.damp_retries, 1);
    EXPECT_GT(r.damping, 0.0);
    EXPECT_TRUE(torch::isfinite(r.weight).all().item<bool>());
    std::printf("singular H: %d retries, damping %.4g (mean diag %.4g)\n", r.damp_retries,
                r.damping, h.diagonal().mean().item<double>());

    options.max_damp_retries = 0;
    EXPECT_THROW(qs::gptq_quantize(w, h, options), qs::QsError);
    options.percdamp = 0.01;
    EXPECT_EQ(qs::gptq_quantize(w, h, options).damp_retries, 0);
}

TEST(GptqProperties, CancellationThrowsAndLeavesWeightUntouched)
{
    const auto w = random_weight(32, 512, 8);
    const auto original = w.clone();
    const auto h = random_hessian(512, 600, 9);
    const auto options = int_options(4, false, 128, false, false, 64);

    qs::Feedback cancelled;
    cancelled.cancel();
    EXPECT_THROW(qs::gptq_quantize(w, h, options, &cancelled), qs::CancelledError);

    // Cancelled from the listener once a third of the columns are done.
    qs::Feedback midway;
    double last = 0;
    midway.set_listener([&](double fraction, const std::string&) {
        last = fraction;
        if (fraction > 0.3) midway.cancel();
    });
    EXPECT_THROW(qs::gptq_quantize(w, h, options, &midway), qs::CancelledError);
    EXPECT_GT(last, 0.3);
    EXPECT_LT(last, 1.0);
    EXPECT_TRUE(torch::equal(w, original));
}

TEST(GptqProperties, TotalErrorIsTheQuadraticObjective)
{
    // Each GPTQ step minimises the quadratic exactly over the columns still free, so the losses
    // add up to 1/2 tr((W-Q) H (W-Q)^T) with the damped H, for single columns and micro-blocks.
    const auto w = random_weight(32, 256, 10);
    const auto h = random_hessian(256, 512, 11, {5});
    auto w_live = w.clone();
    w_live.select(1, 5).zero_();  // GPTQ zeroes the dead column before quantizing
    const std::vector<std::pair<std::string, qs::GptqOptions>> cases = {
        {"int4 g64 act-order", int_options(4, false, 64, true)},
        {"int3 channel", int_options(3, true, 0)},
        {"mxint4-32 B2 32", mx_options(qs::MxElement::Int4, 32, 0)},
        {"mxfp4-16 B2 64", mx_options(qs::MxElement::Fp4E2M1, 16, 64)},
    };
    for (const auto& [name, options] : cases) {
        SCOPED_TRACE(name);
        const auto r = qs::gptq_quantize(w, h, options);
        const double objective = 0.5 * quadratic_loss(w_live, r.weight, damped(h, r));
        std::printf("%-20s sum(losses) %.6g  1/2 tr(dW H dW^T) %.6g\n", name.c_str(), r.total_error,
                    objective);
        EXPECT_NEAR(r.total_error, objective, kLossIdentityTolerance * objective);
    }
}

TEST(GptqProperties, LossNotAboveRoundToNearest)
{
    const auto w = random_weight(64, 256, 12);
    const auto h = random_hessian(256, 1024, 13);
    struct Case {
        std::string name;
        qs::GptqOptions options;
        torch::Tensor rtn;
    };
    const std::vector<Case> cases = {
        {"int4 channel", int_options(4, false, 0), qs::int_fake_quantize_groups(w, 4, false, 0)},
        {"int3 g64", int_options(3, false, 64), qs::int_fake_quantize_groups(w, 3, false, 64)},
        {"mxint4-32", mx_options(qs::MxElement::Int4, 32, 0),
         qs::mx_quantize_dequantize(w, qs::MxElement::Int4, 32)},
        {"mxfp4-32 B2 64", mx_options(qs::MxElement::Fp4E2M1, 32, 64),
         qs::mx_quantize_dequantize(w, qs::MxElement::Fp4E2M1, 32)},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto r = qs::gptq_quantize(w, h, c.options);
        const double gptq = quadratic_loss(w, r.weight, h);
        const double rtn = quadratic_loss(w, c.rtn, h);
        std::printf("%-16s tr(dW H dW^T): GPTQ %.6g  RTN %.6g\n", c.name.c_str(), gptq, rtn);
        EXPECT_LE(gptq, rtn);
    }
}

TEST(GptqProperties, GroupParametersReproduceTheWeights)
{
    // Re-quantizing Q with the reported scales/zeros of each column's g_idx returns Q.
    const auto w = random_weight(24, 256, 14);
    const auto h = random_hessian(256, 512, 15);
    for (bool static_groups : {false, true}) {
        SCOPED_TRACE(static_groups ? "static" : "dynamic");
        const auto r = qs::gptq_quantize(w, h, int_options(4, false, 64, true, static_groups));
        ASSERT_EQ(r.scales.sizes(), (std::vector<std::int64_t>{24, 4}));
        auto perm = r.perm.to(torch::kInt64);
        for (std::int64_t i = 0; i < 256; ++i) {
            const auto j = perm[i].item<std::int64_t>();
            const auto g = r.g_idx[j].item<std::int32_t>();
            EXPECT_EQ(g, static_groups ? j / 64 : i / 64);
            qs::IntQuantParams p;
            p.bits = 4;
            p.scale = r.scales.slice(1, g, g + 1);
            p.zero = r.zeros.slice(1, g, g + 1);
            auto col = r.weight.slice(1, j, j + 1);
            ASSERT_LE(max_abs(qs::int_quantize_dequantize(col, p) - col), 1e-6) << "column " << j;
        }
    }
}

TEST(GptqProperties, RejectsInvalidOptions)
{
    const auto w = random_weight(8, 64, 16);
    const auto h = random_hessian(64, 128, 17);
    auto act = mx_options(qs::MxElement::Int4, 32, 0);
    act.act_order = true;
    EXPECT_THROW(qs::gptq_quantize(w, h, act), qs::QsError);
    EXPECT_THROW(qs::gptq_quantize(w, h, mx_options(qs::MxElement::Int4, 32, 48)), qs::QsError);
    EXPECT_THROW(qs::gptq_quantize(w, h, mx_options(qs::MxElement::Int4, 32, 256)), qs::QsError);
    qs::GptqOptions fp8;
    fp8.format.kind = qs::FormatKind::Fp8;
    EXPECT_THROW(qs::gptq_quantize(w, h, fp8), qs::QsError);
    EXPECT_THROW(qs::gptq_quantize(w, h.slice(0, 1), int_options(4, false, 0)), qs::QsError);
    EXPECT_THROW(qs::gptq_quantize(w, h, int_options(4, false, -1, false, false, 0)), qs::QsError);
    auto nan_h = h.clone();
    nan_h[1][2] = NAN;
    EXPECT_THROW(qs::gptq_quantize(w, nan_h, int_options(4, false, 0)), qs::QsError);
}

}  // namespace

// keep_losses = false drops the [rows, cols] loss matrix only: Q, the per-column errors and the
// parameters are the same bits, and the per-column errors are the loss matrix's column sums.
TEST(GptqProperties, WithoutTheLossMatrixTheResultsAreTheSame)
{
    const auto w = random_weight(40, 300, 5);  // 300 columns: a partial last block
    const auto h = random_hessian(300, 600, 6, {7});
    const std::vector<std::pair<std::string, qs::GptqOptions>> cases = {
        {"w4 asym g32", int_options(4, false, 32)},
        {"w3 sym channel act-order b64", int_options(3, true, 0, true, false, 64)},
        {"w4 asym g64 act-order static", int_options(4, false, 64, true, true)},
        {"mxfp4 b2=32", mx_options(qs::MxElement::Fp4E2M1, 32, 32)},
    };
    for (const auto& [name, with_losses] : cases) {
        SCOPED_TRACE(name);
        auto without_losses = with_losses;
        without_losses.keep_losses = false;
        const auto a = qs::gptq_quantize(w, h, with_losses);
        const auto b = qs::gptq_quantize(w, h, without_losses);
        ASSERT_TRUE(a.losses.defined());
        EXPECT_FALSE(b.losses.defined());
        EXPECT_TRUE(torch::equal(a.weight, b.weight));
        EXPECT_TRUE(torch::equal(a.column_error, b.column_error));
        EXPECT_EQ(a.total_error, b.total_error);
        if (a.scales.defined()) EXPECT_TRUE(torch::equal(a.scales, b.scales));
        EXPECT_LE(max_abs(a.losses.sum(0) - a.column_error), 1e-5 * max_abs(a.column_error));
        EXPECT_GT(a.total_error, 0.0);
    }
}

// The factor's element reversal with tensor ops in small chunks (the GPU path) is flip({0, 1}),
// for odd and even element counts.
TEST(GptqProperties, ChunkedReversalIsAFlip)
{
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{37, 41}, {16, 16}}) {
        auto t = torch::randn({rows, cols});
        const auto expected = t.flip({0, 1});
        qs::gptq_detail::reverse_elements_in_chunks(t, 5);
        EXPECT_TRUE(torch::equal(t, expected)) << rows << " x " << cols;
    }
}

// The device path of the factor (one 2-D gather, used off the CPU and for strided H) gives the
// CPU gather's factor bit for bit, with and without an act-order permutation.
TEST(GptqProperties, FactorOfAStridedHessianIsTheSame)
{
    const auto h = random_hessian(96, 200, 8, {5});
    const auto dead = h.diagonal() == 0;
    const auto strided = h.t();  // H is symmetric: the same matrix, not contiguous
    ASSERT_FALSE(strided.is_contiguous());
    std::vector<std::int64_t> perm(96);
    for (std::int64_t c = 0; c < 96; ++c)
        perm[static_cast<std::size_t>(c)] = (c * 37) % 96;
    for (const auto& order : {std::vector<std::int64_t>{}, perm}) {
        const auto a =
            qs::gptq_detail::damped_inverse_factor(h, dead, order, 0.01, 0, FactorMethod::Blocked);
        const auto b = qs::gptq_detail::damped_inverse_factor(strided, dead, order, 0.01, 0,
                                                              FactorMethod::Blocked);
        EXPECT_TRUE(torch::equal(a.hinv, b.hinv)) << (order.empty() ? "identity" : "permuted");
        EXPECT_EQ(a.damping, b.damping);
    }
}
