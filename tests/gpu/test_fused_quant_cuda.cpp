// The fused quantize-dequantize CUDA kernels (core/kernels/fused_quant_cuda.cu) against the fused
// CPU loops (core/kernels/fused_quant.h), bit for bit with NaN positions equal, on random data
// with edge cases: huge outliers, zero rows, subnormals, exact ties, +-Inf and NaN; every MX
// element and rounding, INT bits 2..8 sym/asym per group / channel with and without fp16 scales,
// INT activations per token and group, FP8 per tensor and per row. The CPU loops are themselves
// tested bit for bit against the torch implementations (tests/core/test_fused_quant.cpp). Runs in
// qs_gpu_tests, whose main exits 77 without a CUDA device.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include "core/kernels/fused_quant.h"

namespace {

using qs::Fp8Variant;
using qs::MxElement;
using qs::Rounding;

std::uint32_t bits_of(float v)
{
    std::uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

void expect_same_bits(const torch::Tensor& gpu, const torch::Tensor& cpu, const std::string& what)
{
    ASSERT_TRUE(gpu.is_cuda()) << what << ": the result left the GPU";
    ASSERT_EQ(gpu.sizes(), cpu.sizes()) << what;
    ASSERT_EQ(gpu.scalar_type(), cpu.scalar_type()) << what;
    auto a = gpu.to(torch::kCPU, torch::kFloat32).contiguous();
    auto b = cpu.to(torch::kFloat32).contiguous();
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const bool same = std::isnan(pa[i]) ? std::isnan(pb[i]) : bits_of(pa[i]) == bits_of(pb[i]);
        if (!same) {
            ADD_FAILURE() << what << ": element " << i << " cuda " << pa[i] << " (0x" << std::hex
                          << bits_of(pa[i]) << ") cpu " << pb[i] << " (0x" << bits_of(pb[i])
                          << std::dec << ")";
            return;
        }
    }
}

// N(0, 1) rows with edge cases mixed in, row by row: outliers up to 3e38, an all-zero row with
// -0s, subnormal rows, tie rows ((k + 0.5) 2^-j with a max of 255 steps and a 0), +-Inf, NaN.
torch::Tensor edge_data(std::int64_t rows, std::int64_t cols, std::uint64_t seed)
{
    torch::manual_seed(seed);
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    auto x = torch::randn({rows, cols});
    float* p = x.data_ptr<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
        float* v = p + r * cols;
        switch (r % 8) {
            case 1:
                v[rng() % cols] *= 1e4f;
                v[rng() % cols] = 3.0e38f;
                break;
            case 2:
                for (std::int64_t c = 0; c < cols; ++c)
                    v[c] = c % 3 ? 0.0f : -0.0f;
                break;
            case 3:
                for (std::int64_t c = 0; c < cols; ++c)
                    v[c] *= c % 5 ? 1e-39f : 1.0f;
                break;
            case 4: {
                const float step = std::ldexp(1.0f, int(rng() % 16) - 12);
                for (std::int64_t c = 0; c < cols; ++c)
                    v[c] = (float(int(rng() % 300) - 40) + 0.5f) * step;
                v[0] = 255.0f * step;
                v[1] = 0.0f;
                break;
            }
            case 5:
                v[rng() % cols] = std::numeric_limits<float>::infinity();
                v[rng() % cols] = -std::numeric_limits<float>::infinity();
                break;
            case 6:
                v[rng() % cols] = std::numeric_limits<float>::quiet_NaN();
                break;
            default:
                break;
        }
    }
    return x;
}

torch::Tensor on_gpu(const torch::Tensor& x)
{
    return x.to(torch::Device(torch::kCUDA, 0));
}

TEST(FusedQuantCuda, MxMatchesCpuForEveryElementRoundingAndBlock)
{
    const MxElement elements[] = {MxElement::Int8,    MxElement::Int6,    MxElement::Int4,
                                  MxElement::Int3,    MxElement::Int2,    MxElement::Fp8E4M3,
                                  MxElement::Fp8E5M2, MxElement::Fp6E3M2, MxElement::Fp6E2M3,
                                  MxElement::Fp4E2M1};
    struct Shape {
        std::int64_t cols;
        int block;
    };
    const Shape shapes[] = {{4096, 32}, {1000, 32}, {37, 16}, {512, 128}, {300, 64}};
    std::uint64_t seed = 1;
    for (auto element : elements)
        for (auto rounding : {Rounding::Nearest, Rounding::Even})
            for (const auto& s : shapes) {
                auto x = edge_data(64, s.cols, seed++);
                const auto what = "mx element " + std::to_string(int(element)) + " block " +
                                  std::to_string(s.block) + " cols " + std::to_string(s.cols) +
                                  (rounding == Rounding::Even ? " even" : " nearest");
                expect_same_bits(
                    qs::kernels::mx_quantize_dequantize_fused(on_gpu(x), element, s.block,
                                                              rounding),
                    qs::kernels::mx_quantize_dequantize_fused(x, element, s.block, rounding), what);
            }
    auto x = edge_data(48, 96, 77).reshape({4, 12, 96}).to(torch::kBFloat16);
    expect_same_bits(qs::kernels::mx_quantize_dequantize_fused(on_gpu(x), MxElement::Int4, 32),
                     qs::kernels::mx_quantize_dequantize_fused(x, MxElement::Int4, 32),
                     "mx bf16 3-D");
}

TEST(FusedQuantCuda, IntWeightGroupsMatchCpu)
{
    std::uint64_t seed = 100;
    for (int bits = 2; bits <= 8; ++bits)
        for (bool symmetric : {false, true})
            for (int group : {32, 128, 0})
                for (bool fp16 : {false, true}) {
                    auto w = edge_data(40, 1000, seed++);  // 1000: partial last groups
                    const auto what = "int" + std::to_string(bits) +
                                      (symmetric ? " sym" : " asym") + " group " +
                                      std::to_string(group) + (fp16 ? " fp16" : "");
                    expect_same_bits(qs::kernels::int_fake_quantize_groups_fused(
                                         on_gpu(w), bits, symmetric, group, fp16),
                                     qs::kernels::int_fake_quantize_groups_fused(w, bits, symmetric,
                                                                                 group, fp16),
                                     what);
                }
}

TEST(FusedQuantCuda, IntActivationsMatchCpu)
{
    std::uint64_t seed = 500;
    for (int bits = 2; bits <= 8; ++bits)
        for (bool symmetric : {false, true})
            for (int group : {0, 128})
                for (bool fp16 : {false, true}) {
                    auto x = edge_data(64, 4096, seed++).reshape({4, 16, 4096});
                    const auto what = "activation int" + std::to_string(bits) +
                                      (symmetric ? " sym" : " asym") + " group " +
                                      std::to_string(group) + (fp16 ? " fp16" : "");
                    expect_same_bits(qs::kernels::int_activation_fake_quantize_fused(
                                         on_gpu(x), bits, symmetric, group, fp16),
                                     qs::kernels::int_activation_fake_quantize_fused(
                                         x, bits, symmetric, group, fp16),
                                     what);
                }
}

TEST(FusedQuantCuda, Fp8MatchesCpuPerTensorAndPerRow)
{
    std::uint64_t seed = 900;
    for (auto variant : {Fp8Variant::E4M3, Fp8Variant::E5M2})
        for (bool per_row : {false, true}) {
            // Per tensor: once with the edge rows (Inf/NaN make the whole tensor NaN), once with
            // finite data only, where the reduction decides every value.
            auto edge = edge_data(64, 3000, seed++);
            auto finite = edge_data(64, 3000, seed++).narrow(0, 0, 5);
            for (const auto& x : {edge, finite}) {
                const auto what = std::string(variant == Fp8Variant::E4M3 ? "e4m3" : "e5m2") +
                                  (per_row ? " per row" : " per tensor") + " rows " +
                                  std::to_string(x.size(0));
                expect_same_bits(qs::kernels::fp8_fake_quantize_fused(on_gpu(x), variant, per_row),
                                 qs::kernels::fp8_fake_quantize_fused(x, variant, per_row), what);
            }
        }
}

TEST(FusedQuantCuda, LargeWeightMatchesCpu)
{
    // A Llama-2-7B MLP weight: many blocks per launch, grid-stride loops.
    torch::manual_seed(3);
    auto w = torch::randn({4096, 11008});
    auto g = on_gpu(w);
    expect_same_bits(qs::kernels::mx_quantize_dequantize_fused(g, MxElement::Fp4E2M1, 32),
                     qs::kernels::mx_quantize_dequantize_fused(w, MxElement::Fp4E2M1, 32),
                     "mxfp4 4096x11008");
    expect_same_bits(qs::kernels::int_fake_quantize_groups_fused(g, 4, false, 128),
                     qs::kernels::int_fake_quantize_groups_fused(w, 4, false, 128),
                     "int4 g128 4096x11008");
    expect_same_bits(qs::kernels::fp8_fake_quantize_fused(g, Fp8Variant::E4M3, false),
                     qs::kernels::fp8_fake_quantize_fused(w, Fp8Variant::E4M3, false),
                     "fp8 per tensor 4096x11008");
}

}  // namespace
