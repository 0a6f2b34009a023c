// GPTQ against IST-DASLab/gptq fasterquant outputs: every case of testvectors/gptq/index.json,
// with the Hessian both read from H_256x256.f32 and accumulated from X_4x512x256.f32 through
// HessianAccumulator (4 batches of [1, 512, 256], as the reference's add_batch was fed).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/quant/gptq.h"
#include "tests/core/test_support.h"

namespace {

// Acceptance against the reference (rounding decisions may flip on near-ties, since the lazy
// update's BLAS summation order differs from the reference run's).
constexpr double kWeightTolerance = 1e-5;     // absolute, per dequantized weight
constexpr double kMinFractionWithin = 0.999;  // of all weights
constexpr double kTotalLossRelTolerance = 1e-3;
constexpr double kLossRelTolerance = 1e-3;     // per-weight loss, relative to the largest loss
constexpr double kHessianRelTolerance = 1e-4;  // accumulated vs reference H, relative to max |H|

std::string testvectors_dir()
{
    if (const char* env = std::getenv("QS_TESTVECTORS")) return env;
    return qs::test::shared_dir() + "/testvectors";
}

torch::Tensor load_tensor(const std::string& path, const std::vector<std::int64_t>& shape,
                          torch::ScalarType dtype)
{
    std::int64_t numel = 1;
    for (auto d : shape)
        numel *= d;
    if (dtype == torch::kInt32) {
        auto values = qs::test::read_raw<std::int32_t>(path);
        EXPECT_EQ(static_cast<std::int64_t>(values.size()), numel) << path;
        return torch::from_blob(values.data(), shape, torch::kInt32).clone();
    }
    auto values = qs::test::read_raw<float>(path);
    EXPECT_EQ(static_cast<std::int64_t>(values.size()), numel) << path;
    return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

class GptqTestvectors : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (!std::filesystem::exists(testvectors_dir() + "/gptq/index.json"))
            GTEST_SKIP() << "GPTQ test vectors not found under " << testvectors_dir();
        m_dir = testvectors_dir() + "/gptq/";
        std::ifstream in(m_dir + "index.json");
        m_index = nlohmann::json::parse(in);
        m_w = load(m_index.at("W"));
        m_x = load(m_index.at("X"));
        m_h = load(m_index.at("H"));
    }

    torch::Tensor load(const nlohmann::json& entry, torch::ScalarType dtype = torch::kFloat32)
    {
        return load_tensor(m_dir + entry.at("file").get<std::string>(),
                           entry.at("shape").get<std::vector<std::int64_t>>(), dtype);
    }

    // The reference's feeding: add_batch(X[b:b+1]) for every sequence b.
    torch::Tensor accumulated_hessian() const
    {
        qs::HessianAccumulator acc(m_x.size(2));
        for (std::int64_t b = 0; b < m_x.size(0); ++b)
            acc.add_batch(m_x.slice(0, b, b + 1));
        EXPECT_EQ(acc.samples(), m_x.size(0));
        return acc.hessian();
    }

    std::string m_dir;
    nlohmann::json m_index;
    torch::Tensor m_w, m_x, m_h;
};

TEST_F(GptqTestvectors, HessianAccumulatorMatchesReference)
{
    auto h = accumulated_hessian();
    ASSERT_EQ(h.sizes(), m_h.sizes());
    const double max_diff = (h - m_h).abs().max().item<double>();
    const double scale = m_h.abs().max().item<double>();
    std::printf("Hessian: max |ours - ref| = %.3g, max |H| = %.3g (relative %.3g)\n", max_diff,
                scale, max_diff / scale);
    EXPECT_LE(max_diff, kHessianRelTolerance * scale);
    // A 2-D input counts as one sequence, like a [1, T, cols] batch.
    qs::HessianAccumulator flat(m_x.size(2));
    for (std::int64_t b = 0; b < m_x.size(0); ++b)
        flat.add_batch(m_x[b]);
    EXPECT_TRUE(torch::equal(flat.hessian(), h));
}

TEST_F(GptqTestvectors, EveryCaseMatchesReference)
{
    const auto& cases = m_index.at("cases");
    ASSERT_FALSE(cases.empty());
    const std::vector<std::pair<std::string, torch::Tensor>> hessians = {
        {"H file", m_h}, {"H accumulated from X", accumulated_hessian()}};
    const auto shape = m_index.at("W").at("shape").get<std::vector<std::int64_t>>();

    for (const auto& c : cases) {
        const auto name = c.at("name").get<std::string>();
        const auto groupsize = c.at("groupsize").get<int>();
        qs::GptqOptions options;
        options.format.kind = qs::FormatKind::Int;
        options.format.bits = c.at("bits").get<int>();
        options.format.symmetric = c.at("sym").get<bool>();
        options.format.granularity =
            groupsize == -1 ? qs::Granularity::Channel : qs::Granularity::Group;
        options.format.group_size = groupsize == -1 ? 0 : groupsize;
        options.act_order = c.at("actorder").get<bool>();
        options.static_groups = c.at("static_groups").get<bool>();
        options.blocksize = c.at("blocksize").get<int>();
        options.percdamp = 0.01;

        auto q_ref = load_tensor(m_dir + c.at("Q").get<std::string>(), shape, torch::kFloat32);
        auto losses_ref =
            load_tensor(m_dir + c.at("losses").get<std::string>(), shape, torch::kFloat32);
        const double total_ref = c.at("total_error").get<double>();
        torch::Tensor perm_ref;
        if (c.contains("perm"))
            perm_ref =
                load_tensor(m_dir + c.at("perm").get<std::string>(), {shape[1]}, torch::kInt32)
                    .to(torch::kInt64);
        const bool losses_permuted =
            c.at("losses_order").get<std::string>().find("permuted") != std::string::npos;

        for (const auto& [source, h] : hessians) {
            SCOPED_TRACE(name + " with " + source);
            const auto result = qs::gptq_quantize(m_w, h, options);
            ASSERT_EQ(result.weight.sizes(), q_ref.sizes());

            auto diff = (result.weight - q_ref).abs();
            const double within =
                (diff <= kWeightTolerance).to(torch::kFloat64).mean().item<double>();
            const double max_diff = diff.max().item<double>();
            const double total_rel = std::abs(result.total_error - total_ref) / total_ref;
            std::printf(
                "%-28s %-22s within 1e-5: %.5f  max |dQ| %.3g  loss ours %.6g ref %.6g"
                " (rel %.2g)\n",
                name.c_str(), source.c_str(), within, max_diff, result.total_error, total_ref,
                total_rel);
            EXPECT_GE(within, kMinFractionWithin);
            EXPECT_LE(total_rel, kTotalLossRelTolerance);

            auto losses = result.losses;
            if (perm_ref.defined()) {
                ASSERT_TRUE(result.perm.defined());
                EXPECT_TRUE(torch::equal(result.perm, perm_ref)) << "act-order permutation";
            }
            if (losses_permuted) {
                ASSERT_TRUE(result.perm.defined());
                losses = losses.index_select(1, result.perm);  // into processing order
            }
            const double loss_scale = losses_ref.abs().max().item<double>();
            auto loss_close = (losses - losses_ref).abs() <= kLossRelTolerance * loss_scale;
            const double losses_within = loss_close.to(torch::kFloat64).mean().item<double>();
            EXPECT_GE(losses_within, kMinFractionWithin) << "per-weight losses";
            EXPECT_NEAR(result.column_error.sum().item<double>(), result.total_error,
                        1e-5 * result.total_error);
        }
    }
}

}  // namespace
