// Uniform integer quantizer with the semantics of the GPTQ reference (quant.py), row-wise:
//   range per row: xmin = min(min(x), 0), xmax = max(max(x), 0) (the range always holds 0);
//   symmetric: xmax = max(|xmin|, xmax), xmin = -xmax, zero = (maxq + 1) / 2;
//   asymmetric: scale = (xmax - xmin) / maxq, zero = round(-xmin / scale);
//   xmin = xmax = 0 -> range [-1, 1]; maxq = 2^bits - 1;
//   q = clamp(round(x / scale) + zero, 0, maxq), dequantized scale * (q - zero).
// Optional MSE range search (quant.py mse=True): shrink p = 1 - i/100, i < 80 (grid 100,
// maxshrink 0.8), keep the p minimising sum |q(x) - x|^2.4 per row.
// torch::round is round-half-to-even, as the reference's torch.round.
// AWQ's own pseudo-quantizer (range not forced to hold 0, zero clamped) is awq_find_params.
//
// fp16 scales: every packed checkpoint layout (GPTQ, AWQ, compressed-tensors) stores scales as
// fp16, so an export that must reproduce the dequantized weights bit for bit quantizes with
// scales already rounded to fp16 (before the zero point and the codes are computed). An
// Fp16ScaleScope turns that on for the calling thread (the engine computes every INT parameter
// on the thread that runs quantize_model, never in its worker threads); off by default, so the
// reference semantics above are unchanged.
#pragma once

#include <torch/types.h>

namespace qs {

struct IntQuantParams {
    torch::Tensor scale;  // [rows, 1]
    torch::Tensor zero;   // [rows, 1], integer-valued floats
    int bits = 4;
    // AWQ symmetric mode: codes in [-2^(b-1), 2^(b-1) - 1] with zero 0 (GPTQ's symmetric mode
    // instead keeps unsigned codes with zero = (maxq + 1) / 2).
    bool signed_codes = false;
    double maxq() const { return double((1 << bits) - 1); }
};

// While alive, INT parameters computed on this thread use fp16-rounded scales (at least 2^-24,
// the smallest fp16 subnormal). Nests: the destructor restores the previous state.
class Fp16ScaleScope {
public:
    explicit Fp16ScaleScope(bool enable = true);
    ~Fp16ScaleScope();
    Fp16ScaleScope(const Fp16ScaleScope&) = delete;
    Fp16ScaleScope& operator=(const Fp16ScaleScope&) = delete;

private:
    bool m_previous;
};
bool fp16_scales_enabled();
// The scale as the current scope wants it: unchanged, or rounded to fp16 (see above).
torch::Tensor round_scale(const torch::Tensor& scale);

// Parameters per row of x [rows, n].
IntQuantParams int_find_params(const torch::Tensor& x, int bits, bool symmetric, bool mse = false);

// AWQ pseudo-quantizer parameters per row (llm-awq quantizer.py pseudo_quantize_tensor):
// asym: scale = (max - min).clamp(1e-5) / maxq, zero = clamp(-round(min / scale), 0, maxq);
// sym: scale = absmax.clamp(1e-5) / (2^(bits-1) - 1), zero = 0 with q in [-2^(b-1), 2^(b-1)-1].
IntQuantParams awq_find_params(const torch::Tensor& x, int bits, bool symmetric);

// Integer codes clamp(round(x / scale) + zero, 0, maxq) (symmetric AWQ: signed range).
torch::Tensor int_quantize(const torch::Tensor& x, const IntQuantParams& params);
// scale * (q - zero)
torch::Tensor int_dequantize(const torch::Tensor& q, const IntQuantParams& params);
torch::Tensor int_quantize_dequantize(const torch::Tensor& x, const IntQuantParams& params);

// Row-wise fake quantization of W [rows, cols] in groups of group_size columns (<= 0: whole
// row, i.e. per channel); parameters from the (unmodified) W of each group, as RTN does.
// Without mse on the CPU (and CUDA in a QS_CUDA build): the fused one-pass loop
// (core/kernels/fused_quant.h); otherwise the tensor ops below.
torch::Tensor int_fake_quantize_groups(const torch::Tensor& w, int bits, bool symmetric,
                                       int group_size, bool mse = false);
// The same with vectorised tensor ops (int_quantize_groups) on any device; the fused path must
// agree bit for bit.
torch::Tensor int_fake_quantize_groups_tensor_ops(const torch::Tensor& w, int bits, bool symmetric,
                                                  int group_size, bool mse = false);

// A weight quantized in groups with the parameters that produced it, for exporters: the
// dequantized weight [rows, cols] and per (row, group) scales and zero points [rows, groups]
// (float32, zeros integer-valued), in the unsigned convention weight = scale * (q - zero) with
// q = round(weight / scale + zero) in [0, 2^bits) (AWQ's signed symmetric codes are shifted by
// 2^(bits-1), zero 2^(bits-1)). Groups are contiguous runs of group_size columns (the last may
// be shorter); one group per row when group_size <= 0 or >= cols.
struct IntGroupQuantization {
    torch::Tensor weight;
    torch::Tensor scales;
    torch::Tensor zeros;
};
IntGroupQuantization int_quantize_groups(const torch::Tensor& w, int bits, bool symmetric,
                                         int group_size, bool mse = false);
// The same with AWQ's pseudo-quantizer (awq_find_params) per (row, group).
IntGroupQuantization awq_quantize_groups(const torch::Tensor& w, int bits, bool symmetric,
                                         int group_size);

}  // namespace qs
