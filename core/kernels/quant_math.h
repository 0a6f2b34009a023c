// Scalar quantize-dequantize arithmetic shared by the fused CPU loops (fused_quant.cpp) and the
// CUDA kernels (fused_quant_cuda.cu): every function is QS_HD, torch-free and does the float32
// operations of the vectorised torch implementations in core/quant in their order, so that both
// devices reproduce those implementations bit for bit:
//   INT: int_quantizer.cpp (GPTQ reference quant.py: range holding 0, sym/asym, no MSE search)
//        and awq_find_params (AWQ/SmoothQuant pseudo-quantizer, the activation path);
//   MX:  mx_quantizer.cpp (microxcaling _quantize_mx, scale_bits 8, "max" shared exponent);
//   FP8: fp8_quantizer.cpp fp8_round (arithmetic rounding to the grid, not a code table).
// Rounding helpers are plain float arithmetic (no libm calls except a double log2 on a rare slow
// path), which also lets the CPU loops vectorise.
#pragma once

#include <cstdint>
#include <cstring>

#if !defined(__CUDA_ARCH__)
#include <cmath>
#endif

#include "core/kernels/host_device.h"

namespace qs::kernels {

// --- bit-level helpers ---------------------------------------------------------------------

QS_HD std::uint32_t float_bits(float v)
{
#if defined(__CUDA_ARCH__)
    return __float_as_uint(v);
#else
    std::uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
#endif
}

QS_HD float bits_float(std::uint32_t b)
{
#if defined(__CUDA_ARCH__)
    return __uint_as_float(b);
#else
    float v;
    std::memcpy(&v, &b, sizeof v);
    return v;
#endif
}

constexpr std::uint32_t kSignMask = 0x80000000u;
constexpr float kRoundMagic = 8388608.0f;  // 2^23: from here on every float is an integer

QS_HD bool is_nan(float v)
{
    return v != v;
}
QS_HD float quiet_nan()
{
    return bits_float(0x7fc00000u);
}
QS_HD float abs_f(float v)
{
    return bits_float(float_bits(v) & ~kSignMask);
}
// |magnitude| with the sign of `sign` (torch.copysign, NaN included).
QS_HD float copy_sign(float magnitude, float sign)
{
    return bits_float((float_bits(magnitude) & ~kSignMask) | (float_bits(sign) & kSignMask));
}
// torch.sign for float: +1, -1, and +0 for zeros and NaN.
QS_HD float sign_of(float v)
{
    return float(int(0.0f < v) - int(v < 0.0f));
}

// torch.round (half to even, sign kept: -0.4 -> -0.0; NaN and +-Inf unchanged). Adding and
// subtracting 2^23 rounds to an integer in the default round-to-nearest-even mode.
QS_HD float round_half_even(float v)
{
    const float a = abs_f(v);
    const float rounded = copy_sign((a + kRoundMagic) - kRoundMagic, v);
    return a < kRoundMagic ? rounded : v;  // a select, so that CPU loops vectorise
}

// Exact floor (NaN and +-Inf unchanged, -0 stays -0).
QS_HD float floor_f(float v)
{
    const float r = round_half_even(v);
    return r > v ? r - 1.0f : r;
}

// torch.clamp with scalar bounds: NaN propagates, a zero equal to a bound keeps its sign.
QS_HD float clamp_f(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

// torch.clamp_min: NaN propagates, +Inf stays +Inf.
QS_HD float clamp_min_f(float v, float lo)
{
    return v < lo ? lo : v;
}

// torch.amax / torch.maximum style reductions: NaN wins.
QS_HD float nan_max(float a, float b)
{
    return is_nan(a) ? a : (is_nan(b) || b > a ? b : a);
}
QS_HD float nan_min(float a, float b)
{
    return is_nan(a) ? a : (is_nan(b) || b < a ? b : a);
}

// 2^k, exact, for integer k in [-149, 127] (float32 subnormals included).
QS_HD float exact_pow2(int k)
{
    return k >= -126 ? bits_float(std::uint32_t(k + 127) << 23) : bits_float(1u << (k + 149));
}

// 2^k for integer k in [-126, 127] (normal floats only: a constant shift, which vectorises).
QS_HD float exact_pow2_normal(int k)
{
    return bits_float(std::uint32_t(k + 127) << 23);
}

QS_HD double log2_d(double v)
{
#if defined(__CUDA_ARCH__)
    return ::log2(v);
#else
    return std::log2(v);
#endif
}

// floor(float32(log2(double(v)))) for v >= 0 or NaN, as the reference's float32 torch.log2.
// Fast path: a normal v = m 2^e whose mantissa is not within 256 ulps of the next power of two
// has exactly e (log2 stays >= 2.2e-5 below e + 1, more than half a float32 ulp there for any
// |e| < 256). The rest (the top of a binade, where float32 rounding may reach e + 1, subnormals,
// 0, Inf, NaN) takes the double log2.
QS_HD bool floor_log2_is_exponent(float v)
{
    const std::uint32_t b = float_bits(v);
    const std::uint32_t biased = (b >> 23) & 0xffu;
    return biased != 0 && biased != 0xffu && (b & 0x7fffffu) < 0x7fff00u && !(b & kSignMask);
}

QS_HD float floor_log2_f32(float v)
{
    if (floor_log2_is_exponent(v)) return float(int((float_bits(v) >> 23) & 0xffu) - 127);
    return floor_f(float(log2_d(double(v))));
}

// float -> fp16 -> float (round to nearest even, overflow to Inf, fp16 subnormals, NaN kept).
QS_HD float round_to_fp16(float v)
{
    const std::uint32_t b = float_bits(v);
    const std::uint32_t a = b & ~kSignMask;
    if (a >= 0x7f800000u) return v;                                          // Inf, NaN
    if (a >= 0x477ff000u) return bits_float((b & kSignMask) | 0x7f800000u);  // >= 65520
    if (a < 0x38800000u) {  // below 2^-14: steps of 2^-24
        const float steps = round_half_even(bits_float(a) * 16777216.0f);
        return copy_sign(steps * (1.0f / 16777216.0f), v);
    }
    const std::uint32_t lsb = (a >> 13) & 1u;  // ties to the even 10-bit mantissa
    return bits_float((b & kSignMask) | ((a + 0xfffu + lsb) & ~0x1fffu));
}

// int_quantizer.cpp round_scale under an Fp16ScaleScope: fp16-rounded, at least 2^-24.
QS_HD float fp16_scale(float scale)
{
    return clamp_min_f(round_to_fp16(scale), 5.9604644775390625e-08f);
}

// --- INT -----------------------------------------------------------------------------------

// Affine parameters of one row or group: q = clamp(round(x / scale) + zero, qmin, qmax),
// dequantized scale * (q - zero).
struct IntAffine {
    float scale;
    float zero;
    float qmin;
    float qmax;
};

QS_HD float int_quantize_dequantize(float x, const IntAffine& p)
{
    const float q = clamp_f(round_half_even(x / p.scale) + p.zero, p.qmin, p.qmax);
    return p.scale * (q - p.zero);
}

// Signed codes (AWQ symmetric, zero 0): clamp(round(x / scale), qmin, qmax), then
// scale * (q - 0) as int_dequantize does (which keeps -0).
QS_HD float int_quantize_dequantize_signed(float x, const IntAffine& p)
{
    const float q = clamp_f(round_half_even(x / p.scale), p.qmin, p.qmax);
    return p.scale * (q - 0.0f);
}

// int_find_params (mse off) from the NaN-propagating min and max of a row or group:
// range [min(xmin, 0), max(xmax, 0)], symmetric or asymmetric, unsigned codes 0..maxq.
QS_HD IntAffine gptq_int_params(float group_min, float group_max, int bits, bool symmetric,
                                bool fp16_scales)
{
    const float maxq = float((1 << bits) - 1);
    float xmin = nan_min(group_min, 0.0f);
    float xmax = nan_max(group_max, 0.0f);
    if (symmetric) {
        xmax = nan_max(abs_f(xmin), xmax);
        xmin = xmin < 0.0f ? -xmax : xmin;
    }
    if (xmin == 0.0f && xmax == 0.0f) {
        xmin = -1.0f;
        xmax = 1.0f;
    }
    IntAffine p;
    p.scale = (xmax - xmin) / maxq;
    if (fp16_scales) p.scale = fp16_scale(p.scale);
    p.zero = symmetric ? (maxq + 1.0f) / 2.0f : round_half_even(-xmin / p.scale);
    p.qmin = 0.0f;
    p.qmax = maxq;
    return p;
}

// awq_find_params: asymmetric from min/max (zero clamped to the code range), symmetric from
// absmax with signed codes [-2^(b-1), 2^(b-1) - 1] (use int_quantize_dequantize_signed).
QS_HD IntAffine awq_int_params(float group_min, float group_max, float group_absmax, int bits,
                               bool symmetric, bool fp16_scales)
{
    IntAffine p;
    if (symmetric) {
        const float half = float(1 << (bits - 1));
        p.scale = clamp_min_f(group_absmax, 1e-5f) / (half - 1.0f);
        if (fp16_scales) p.scale = fp16_scale(p.scale);
        p.zero = 0.0f;
        p.qmin = -half;
        p.qmax = half - 1.0f;
        return p;
    }
    const float maxq = float((1 << bits) - 1);
    p.scale = clamp_min_f(group_max - group_min, 1e-5f) / maxq;
    if (fp16_scales) p.scale = fp16_scale(p.scale);
    p.zero = clamp_f(-round_half_even(group_min / p.scale), 0.0f, maxq);
    p.qmin = 0.0f;
    p.qmax = maxq;
    return p;
}

// --- MX ------------------------------------------------------------------------------------

// mx_quantizer.h MxElementParams, torch-free.
struct MxFormat {
    int ebits;
    int mbits;
    int emax;
    float max_norm;
    int min_exp;
};

// 2^shared_exp of a block from the NaN-propagating max of |x|: NaN for an Inf/NaN block or an
// exponent above 127 (E8M0 0xFF), at least 2^-127.
QS_HD float mx_block_scale(float amax, int emax)
{
    float shared = floor_log2_f32(amax + (amax == 0.0f ? 1.17549435e-38f : 0.0f));
    shared = shared - float(emax);
    if (is_nan(shared) || shared > 127.0f) return quiet_nan();
    if (shared < -127.0f) shared = -127.0f;
    return exact_pow2(int(shared));
}

// microxcaling _round_mantissa: nearest = sign(a) floor(|a| + 0.5); even: one less on the
// exact .5 of an even integer ((|a| - 0.5) % 2 == 0).
QS_HD float mx_round_mantissa(float a, bool even)
{
    const float abs_a = abs_f(a);
    float rounded = floor_f(abs_a + 0.5f);
    if (even) {
        const float t = abs_a - 0.5f;
        if (t == 2.0f * floor_f(t * 0.5f)) rounded = rounded - 1.0f;
    }
    return sign_of(a) * rounded;
}

// One element already divided by the block scale -> its quantized value (still divided).
QS_HD float mx_quantize_element(float a, const MxFormat& f, bool even)
{
    const float lshift = exact_pow2(f.mbits - 2);
    float out;
    if (f.ebits > 0) {
        const float v = abs_f(a) + (a == 0.0f ? 1.0f : 0.0f);
        // Below 2^min_exp the clamped private exponent is min_exp whatever log2 rounds to.
        float e = v < exact_pow2(f.min_exp) ? float(f.min_exp) : floor_log2_f32(v);
        if (e < float(f.min_exp)) e = float(f.min_exp);
        const float step = is_nan(e) ? quiet_nan() : exact_pow2(int(e));
        out = mx_round_mantissa(a / step * lshift, even) / lshift * step;
    } else {
        out = mx_round_mantissa(a * lshift, even) / lshift;
    }
    return clamp_f(out, -f.max_norm, f.max_norm);
}

// FP elements (ebits > 0) without the double log2: the private exponent straight from the float's
// exponent field (clamped to min_exp). Equal to mx_quantize_element except where
// mx_element_needs_log2(a) (then anything); CPU loops vectorise this and redo the rare others.
QS_HD float mx_quantize_fp_element_fast(float a, const MxFormat& f, bool even)
{
    const float lshift = exact_pow2_normal(f.mbits - 2);
    const float v = abs_f(a) + (a == 0.0f ? 1.0f : 0.0f);
    int e = int((float_bits(v) >> 23) & 0xffu) - 127;
    e = e < f.min_exp ? f.min_exp : e;
    const float step = exact_pow2_normal(e);
    const float out = mx_round_mantissa(a / step * lshift, even) / lshift * step;
    return clamp_f(out, -f.max_norm, f.max_norm);
}

// Whether the private exponent of a needs floor_log2_f32's double log2 (NaN included).
QS_HD bool mx_element_needs_log2(float a, const MxFormat& f)
{
    // Bitwise, without branches (vectorises): v >= 0, so the sign test is moot.
    const float v = abs_f(a) + (a == 0.0f ? 1.0f : 0.0f);
    const std::uint32_t b = float_bits(v);
    const std::uint32_t biased = (b >> 23) & 0xffu;
    const bool below = v < exact_pow2_normal(f.min_exp);
    const bool use_log2 = (biased == 0) | (biased == 0xffu) | ((b & 0x7fffffu) >= 0x7fff00u);
    return !below & use_log2;
}

QS_HD float mx_quantize_dequantize(float x, float block_scale, const MxFormat& f, bool even)
{
    return mx_quantize_element(x / block_scale, f, even) * block_scale;
}

// --- FP8 -----------------------------------------------------------------------------------

struct Fp8Format {
    int mantissa_bits;
    int min_normal_exp;
    float max;
};

// fp8_quantizer.cpp fp8_round: saturate |v| at max, spacing 2^(max(e, min_normal) - mbits),
// round half to even on the grid, sign of v.
QS_HD float fp8_round(float v, const Fp8Format& f)
{
    float magnitude = abs_f(v);
    if (magnitude > f.max) magnitude = f.max;
    const int biased = int((float_bits(magnitude) >> 23) & 0xffu);
    int exponent = biased - 127;  // frexp's exponent - 1 for normal values
    if (biased == 0 || exponent < f.min_normal_exp) exponent = f.min_normal_exp;
    if (exponent > 127) exponent = 127;  // NaN: any finite spacing gives NaN
    // min_normal_exp - mantissa_bits >= -17: the spacing is a normal float.
    const float spacing = exact_pow2_normal(exponent - f.mantissa_bits);
    return copy_sign(round_half_even(magnitude / spacing) * spacing, v);
}

// absmax / max, or 1 for an all-zero tensor or row.
QS_HD float fp8_scale(float absmax, const Fp8Format& f)
{
    const float scale = absmax / f.max;
    return absmax == 0.0f ? 1.0f : scale;
}

QS_HD float fp8_quantize_dequantize(float x, float scale, const Fp8Format& f)
{
    return fp8_round(x / scale, f) * scale;
}

}  // namespace qs::kernels
