// bench/fused_quant: the vectorised torch quantize-dequantize (core/quant *_tensor_ops) against
// the fused one-pass CPU loops (core/kernels/fused_quant.h) on a Llama-2-7B MLP weight
// [4096, 11008] and on activations [2048, 4096] (N(0, 1) with a few outliers), best of --reps.
// GB/s counts one float32 read and one write per element (8 bytes), the minimum traffic.
// Every fused result is checked bit for bit against the torch one before it is timed.
//   usage: fused_quant [--threads 2] [--reps 3]
#include <cstdio>
#include <functional>
#include <string>

#include <ATen/Parallel.h>
#include <torch/types.h>

#include "bench/bench_common.h"
#include "core/kernels/fused_quant.h"
#include "core/quant/fp8_quantizer.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"

namespace {

using Quantizer = std::function<torch::Tensor(const torch::Tensor&)>;

double best_ms(const Quantizer& f, const torch::Tensor& x, int reps)
{
    return 1e3 * qs_bench::best_seconds([&] { return f(x); }, reps);
}

bool same_bits(const torch::Tensor& a, const torch::Tensor& b)
{
    auto nan_a = a.isnan(), nan_b = b.isnan();
    if (!nan_a.equal(nan_b)) return false;
    auto ai = torch::where(nan_a, torch::zeros_like(a), a).contiguous().view(torch::kInt32);
    auto bi = torch::where(nan_b, torch::zeros_like(b), b).contiguous().view(torch::kInt32);
    return ai.equal(bi);
}

void row(const char* name, const torch::Tensor& x, const Quantizer& torch_path,
         const Quantizer& fused, int reps)
{
    const bool exact = same_bits(fused(x), torch_path(x));
    const double t_torch = best_ms(torch_path, x, reps);
    const double t_fused = best_ms(fused, x, reps);
    const double bytes = 8.0 * double(x.numel());
    std::printf("%-28s %-14s %10.1f %8.2f %10.1f %8.2f %8.1fx  %s\n", name,
                (std::to_string(x.size(0)) + "x" + std::to_string(x.size(1))).c_str(), t_torch,
                bytes / t_torch / 1e6, t_fused, bytes / t_fused / 1e6, t_torch / t_fused,
                exact ? "bit-exact" : "MISMATCH");
}

}  // namespace

int main(int argc, char** argv)
{
    const int reps = qs_bench::start_micro_bench(argc, argv);
    std::printf("%-28s %-14s %10s %8s %10s %8s %9s\n", "case", "shape", "torch ms", "GB/s",
                "fused ms", "GB/s", "speedup");

    using qs::MxElement;
    auto w = qs_bench::with_outliers(4096, 11008);
    row(
        "weight MXFP4-32", w,
        [](const torch::Tensor& t) {
            return qs::mx_quantize_dequantize_tensor_ops(t, MxElement::Fp4E2M1, 32);
        },
        [](const torch::Tensor& t) {
            return qs::kernels::mx_quantize_dequantize_fused(t, MxElement::Fp4E2M1, 32);
        },
        reps);
    row(
        "weight MXINT8-32", w,
        [](const torch::Tensor& t) {
            return qs::mx_quantize_dequantize_tensor_ops(t, MxElement::Int8, 32);
        },
        [](const torch::Tensor& t) {
            return qs::kernels::mx_quantize_dequantize_fused(t, MxElement::Int8, 32);
        },
        reps);
    row(
        "weight INT4 g128 asym", w,
        [](const torch::Tensor& t) {
            return qs::int_fake_quantize_groups_tensor_ops(t, 4, false, 128);
        },
        [](const torch::Tensor& t) {
            return qs::kernels::int_fake_quantize_groups_fused(t, 4, false, 128);
        },
        reps);
    row(
        "weight FP8 E4M3 per row", w,
        [](const torch::Tensor& t) {
            return qs::fp8_fake_quantize_tensor_ops(t, qs::Fp8Variant::E4M3, true);
        },
        [](const torch::Tensor& t) {
            return qs::kernels::fp8_fake_quantize_fused(t, qs::Fp8Variant::E4M3, true);
        },
        reps);

    auto a = qs_bench::with_outliers(2048, 4096);
    row(
        "activation INT8 per token", a,
        [](const torch::Tensor& t) {
            // fake_quantize.cpp's former path: awq_find_params per row, then q-dq.
            return qs::int_quantize_dequantize(t, qs::awq_find_params(t, 8, true));
        },
        [](const torch::Tensor& t) {
            return qs::kernels::int_activation_fake_quantize_fused(t, 8, true);
        },
        reps);
    row(
        "activation MXFP8-E4M3-32", a,
        [](const torch::Tensor& t) {
            return qs::mx_quantize_dequantize_tensor_ops(t, MxElement::Fp8E4M3, 32);
        },
        [](const torch::Tensor& t) {
            return qs::kernels::mx_quantize_dequantize_fused(t, MxElement::Fp8E4M3, 32);
        },
        reps);
    return 0;
}
