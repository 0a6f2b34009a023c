// Vectorised MX fake quantization, following microxcaling `_quantize_mx` step by step in float32
// so the results agree bit for bit (the scalar twin is mx_quantizer_reference.cpp):
//   shared = floor(log2(amax + 2^-126 [amax == 0])) - emax; > 127 -> NaN; < -127 -> -127
//   a = x / 2^shared
//   FP: e = max(floor(log2(|a| + [a == 0])), min_exp); a = a / 2^e * 2^(mbits-2)
//   INT: a = a * 2^(mbits-2)
//   round (nearest: sign(a) floor(|a| + 0.5); even: minus 1 on exact .5 of an even floor)
//   a = a / 2^(mbits-2) [* 2^e]; clamp to +-max_norm; result a * 2^shared.
// log2 is rounded to float32 before the floor, as the reference's float32 torch.log2 does: a
// value just below 2^k whose float32 log2 rounds up to k gets exponent k.
#include "core/quant/mx_quantizer.h"

#include <cmath>
#include <limits>

#include "core/kernels/fused_quant.h"
#include "core/util/error.h"

namespace qs {
namespace {

constexpr float kFp32MinNormal = 1.17549435e-38f;  // 2^-126, microxcaling FP32_MIN_NORMAL
constexpr int kScaleEmax = 127;                    // scale_bits = 8

void check_block_size(int block_size)
{
    if (block_size <= 0)
        throw QsError("MX quantizer: block size must be positive, got " +
                      std::to_string(block_size));
}

// floor(float32(log2(v))) for v >= 0; log2 in double, then rounded to float32.
torch::Tensor floor_log2_f32(const torch::Tensor& v)
{
    return torch::log2(v.to(torch::kFloat64)).to(torch::kFloat32).floor_();
}

// 2^k for integer-valued float k (NaN -> NaN), built from the float64 exponent field so that
// it is exact, float32 subnormals (k >= -149) included.
torch::Tensor exact_pow2(const torch::Tensor& k)
{
    auto nan = k.isnan();
    auto ki = torch::where(nan, torch::zeros_like(k), k).clamp(-1022, 1023).to(torch::kInt64);
    auto bits = (ki + 1023) * (std::int64_t(1) << 52);
    auto p = bits.view(torch::kFloat64).to(torch::kFloat32);
    return torch::where(nan, torch::full_like(p, std::numeric_limits<float>::quiet_NaN()), p);
}

// microxcaling `_round_mantissa` (clamp = False).
torch::Tensor round_mantissa(const torch::Tensor& a, Rounding rounding)
{
    auto abs_a = a.abs();
    auto rounded = torch::floor(abs_a + 0.5f);
    if (rounding == Rounding::Even) {
        // Exact ties of an odd floor came out one too high: (|a| - 0.5) % 2 == 0.
        auto tie = (torch::remainder(abs_a - 0.5f, 2) == 0).to(a.scalar_type());
        rounded = rounded - tie;
    }
    return torch::sign(a) * rounded;
}

// Block-scaled elements a (already divided by 2^shared) -> quantized element values.
torch::Tensor quantize_elements(const torch::Tensor& a, const MxElementParams& p, Rounding rounding)
{
    const float lshift = std::ldexp(1.0f, p.mbits - 2);
    torch::Tensor out;
    if (p.ebits > 0) {
        auto private_exp =
            floor_log2_f32(a.abs() + (a == 0).to(torch::kFloat32)).clamp_min_(p.min_exp);
        auto pow2_exp = exact_pow2(private_exp);
        out = round_mantissa(a / pow2_exp * lshift, rounding) / lshift * pow2_exp;
    } else {
        out = round_mantissa(a * lshift, rounding) / lshift;
    }
    // The reference then restores +-Inf inputs; a block holding Inf has a NaN scale, so every
    // element here is finite or NaN and nothing is left to restore.
    return torch::clamp(out, -p.max_norm, p.max_norm);
}

struct Blocked {
    torch::Tensor blocks;  // [rows, nblocks, block] float32, zero padded
    std::int64_t n = 0;
};

Blocked to_blocks(const torch::Tensor& x, int block_size)
{
    auto x32 = x.to(torch::kFloat32).contiguous();
    const std::int64_t n = x32.dim() == 0 ? 1 : x32.size(-1);
    auto rows2d = x32.reshape({-1, n});
    const std::int64_t nblocks = (n + block_size - 1) / block_size;
    const std::int64_t pad = nblocks * block_size - n;
    if (pad > 0) rows2d = torch::constant_pad_nd(rows2d, {0, pad});
    return {rows2d.reshape({rows2d.size(0), nblocks, block_size}), n};
}

torch::Tensor from_blocks(const torch::Tensor& blocks, std::int64_t n, const torch::Tensor& like)
{
    auto rows2d = blocks.reshape({blocks.size(0), -1}).narrow(1, 0, n);
    return rows2d.reshape(like.sizes());
}

// Shared exponent per block [rows, nblocks, 1], float (NaN for an Inf/NaN or overflowing block).
torch::Tensor shared_exponents(const torch::Tensor& blocks, const MxElementParams& p)
{
    auto amax = blocks.abs().amax(-1, true);
    auto shared = floor_log2_f32(amax + kFp32MinNormal * (amax == 0).to(torch::kFloat32));
    shared = shared - float(p.emax);
    shared =
        torch::where(shared > kScaleEmax,
                     torch::full_like(shared, std::numeric_limits<float>::quiet_NaN()), shared);
    return torch::where(shared < -kScaleEmax, torch::full_like(shared, -kScaleEmax), shared);
}

}  // namespace

MxElementParams mx_element_params(MxElement element)
{
    // (ebits, mbits, emax, max_norm, min_exp)
    switch (element) {
        case MxElement::Int8:
            return {0, 8, 0, 127.0f / 64.0f, 0};
        case MxElement::Int6:
            return {0, 6, 0, 31.0f / 16.0f, 0};
        case MxElement::Int4:
            return {0, 4, 0, 7.0f / 4.0f, 0};
        case MxElement::Int3:
            return {0, 3, 0, 3.0f / 2.0f, 0};
        case MxElement::Int2:
            return {0, 2, 0, 1.0f, 0};
        case MxElement::Fp8E4M3:
            return {4, 5, 8, 448.0f, -6};
        case MxElement::Fp8E5M2:
            return {5, 4, 15, 57344.0f, -14};
        case MxElement::Fp6E3M2:
            return {3, 4, 4, 28.0f, -2};
        case MxElement::Fp6E2M3:
            return {2, 5, 2, 7.5f, 0};
        case MxElement::Fp4E2M1:
            return {2, 3, 2, 6.0f, 0};
    }
    throw QsError("MX quantizer: unknown element format");
}

int mx_element_emax(MxElement element)
{
    return mx_element_params(element).emax;
}

double mx_element_max(MxElement element)
{
    return mx_element_params(element).max_norm;
}

MxEncoding mx_encode(const torch::Tensor& x, MxElement element, int block_size, Rounding rounding)
{
    check_block_size(block_size);
    const auto p = mx_element_params(element);
    auto blocked = to_blocks(x, block_size);
    auto shared = shared_exponents(blocked.blocks, p);
    auto elements = quantize_elements(blocked.blocks / exact_pow2(shared), p, rounding);

    auto out_sizes = x.sizes().vec();
    if (out_sizes.empty()) out_sizes.push_back(1);
    out_sizes.back() = blocked.blocks.size(1);
    MxEncoding enc;
    enc.shared_exponent = torch::where(shared.isnan(), torch::full_like(shared, 128), shared)
                              .to(torch::kInt32)
                              .reshape(out_sizes);
    enc.elements = from_blocks(elements, blocked.n, x);
    return enc;
}

torch::Tensor mx_quantize_dequantize(const torch::Tensor& x, MxElement element, int block_size,
                                     Rounding rounding)
{
    return kernels::mx_quantize_dequantize_fused(x, element, block_size, rounding);
}

torch::Tensor mx_quantize_dequantize_tensor_ops(const torch::Tensor& x, MxElement element,
                                                int block_size, Rounding rounding)
{
    check_block_size(block_size);
    if (x.numel() == 0) return x.clone();
    const auto p = mx_element_params(element);
    auto blocked = to_blocks(x, block_size);
    auto scale = exact_pow2(shared_exponents(blocked.blocks, p));
    auto q = quantize_elements(blocked.blocks / scale, p, rounding) * scale;
    auto out = from_blocks(q, blocked.n, x);
    return x.scalar_type() == torch::kFloat32 || !x.is_floating_point() ? out
                                                                        : out.to(x.scalar_type());
}

}  // namespace qs
