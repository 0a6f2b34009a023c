// Torch glue of the fused quantize-dequantize: checks, float32 contiguous staging, the CPU loops
// over rows / groups / blocks (in parallel) and, under QS_CUDA, the dispatch of CUDA tensors to
// fused_quant_cuda.cu on the current stream. The arithmetic is quant_math.h's.
#include "core/kernels/fused_quant.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "core/kernels/kernel_device.h"
#include "core/quant/fp8_quantizer.h"
#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"

// GCC turns the selects of quant_math.h (clamps, the round-to-integer guard) into vector blends
// only when it may evaluate both sides, i.e. without -ftrapping-math. That flag only concerns
// floating-point exception traps, which nothing here enables: no reassociation, no contraction,
// every result stays bit for bit the same (tests/core/test_fused_quant.cpp). fp-contract=off:
// GNU C++ defaults to -ffp-contract=fast, which fuses a * b + c into one FMA rounding wherever
// the target has FMA, as the x86-64-v4 clones below do (nvcc runs with --fmad=false likewise).
// Set before quant_math.h so that its inline functions carry the same options as the loops they
// inline into.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#endif
#include "core/kernels/quant_math.h"

// Function multiversioning of the loops below (GCC on x86-64 ELF, where the default build targets
// baseline x86-64 = SSE2): one copy each for SSE2, AVX2 and x86-64-v4 (AVX-512), the loader
// picking the widest the CPU has (an ifunc). Every copy does the same IEEE float32 operations per
// element, in vectors of 4, 8 or 16 (fp-contract=off above keeps FMA out), so all give the same
// bits. Defining QS_CPU_CLONES (empty) on the command line builds one plain copy, e.g. to run the
// tests on a single -march.
#ifndef QS_CPU_CLONES
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && defined(__x86_64__) && \
    defined(__ELF__)
#define QS_CPU_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define QS_CPU_CLONES
#endif
#endif

// The helpers the cloned loops call: always inlined, so that each clone runs them with its
// instruction set (a call would reach the baseline copy).
#if defined(__GNUC__)
#define QS_LOOP_INLINE [[gnu::always_inline]] inline
#else
#define QS_LOOP_INLINE inline
#endif

#ifdef QS_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/kernels/fused_quant_cuda.h"
#endif

namespace qs::kernels {
namespace {

// Elements per parallel task: below this a call runs on the calling thread (the GPTQ and AWQ
// searches quantize many small slices, where starting threads would cost more than the work).
constexpr std::int64_t kElementsPerTask = 1 << 16;

MxFormat mx_format(MxElement element)
{
    const auto p = mx_element_params(element);
    return {p.ebits, p.mbits, p.emax, p.max_norm, p.min_exp};
}

Fp8Format fp8_format(Fp8Variant variant)
{
    if (variant == Fp8Variant::E4M3) return {3, -6, fp8_max(variant)};
    return {2, -14, fp8_max(variant)};
}

void check_bits(int bits)
{
    if (bits < 1 || bits > 16)
        throw QsError("integer quantizer: bits must be 1..16, got " + std::to_string(bits));
}

std::int64_t last_dim(const torch::Tensor& x)
{
    return x.dim() == 0 ? 1 : x.size(-1);
}

// Runs f(begin, end) over [0, count) items of `item_size` elements each.
template <typename F>
void parallel_items(std::int64_t count, std::int64_t item_size, F&& f)
{
    const std::int64_t grain =
        std::max<std::int64_t>(1, kElementsPerTask / std::max<std::int64_t>(1, item_size));
    gptq_detail::parallel_chunks(count, grain, f);
}

// Max of |v[0, len)|, NaN-propagating: for non-negative floats the integer order of the bits is
// the float order and every NaN (sign cleared) lies above +Inf, so an integer max (which
// vectorises) is the torch.amax of the kernels' reduction.
QS_LOOP_INLINE float absmax_of(const float* v, std::int64_t len)
{
    std::int32_t m = 0;
    for (std::int64_t i = 0; i < len; ++i) {
        const auto b = static_cast<std::int32_t>(float_bits(v[i]) & ~kSignMask);
        m = b > m ? b : m;
    }
    return bits_float(static_cast<std::uint32_t>(m));
}

// A float's bits as an int32 whose signed order is the float order, -0 below +0 (a negative
// float's magnitude bits flipped); NaNs fall outside +-Inf. The mapping is its own inverse.
QS_LOOP_INLINE std::int32_t ordered_key(std::int32_t bits)
{
    return bits ^ ((bits >> 31) & 0x7fffffff);
}

// Min, max (NaN if any element is NaN, as torch.min/max) and absmax of v[0, len), len >= 1, in
// one pass of integer min/max over ordered keys: that vectorises, where float selects would not
// without -ffinite-math-only. Which zero a min or max of +-0 returns differs with the order; the
// parameters built from it do not (int_quantizer.cpp: the range always holds 0; AWQ: the sign
// of a zero point of +-0 cancels in q - zero).
struct RangeOf {
    float lo, hi, amax;
};
QS_LOOP_INLINE RangeOf range_of(const float* v, std::int64_t len)
{
    std::int32_t lo = 0x7fffffff, hi = -0x7fffffff - 1, nan = 0;
    for (std::int64_t i = 0; i < len; ++i) {
        const auto b = static_cast<std::int32_t>(float_bits(v[i]));
        const std::int32_t key = ordered_key(b);
        lo = key < lo ? key : lo;
        hi = key > hi ? key : hi;
        nan |= static_cast<std::int32_t>((b & 0x7fffffff) > 0x7f800000);
    }
    if (nan) return {quiet_nan(), quiet_nan(), absmax_of(v, len)};
    // The element of largest magnitude is the min or the max: absmax_of's max of |bits|.
    const auto lo_abs = ordered_key(lo) & 0x7fffffff, hi_abs = ordered_key(hi) & 0x7fffffff;
    return {bits_float(static_cast<std::uint32_t>(ordered_key(lo))),
            bits_float(static_cast<std::uint32_t>(ordered_key(hi))),
            bits_float(static_cast<std::uint32_t>(lo_abs > hi_abs ? lo_abs : hi_abs))};
}

// One MX block of FP elements: a vectorised pass with the exponent-field private exponent, then
// the elements that need the double log2 (the top of a binade, NaN) again with the exact one.
// (Near the top of a binade both exponents round the element to the same power of two, so the
// second pass is a guard more than a correction; it keeps the CPU on the kernels' function.)
template <bool Even>
QS_LOOP_INLINE void mx_fp_block(const float* src, float* dst, std::int64_t len, float scale,
                                const MxFormat& f)
{
    std::int32_t pending = 0;
    for (std::int64_t i = 0; i < len; ++i) {
        const float a = src[i] / scale;
        dst[i] = mx_quantize_fp_element_fast(a, f, Even) * scale;
        pending |= static_cast<std::int32_t>(mx_element_needs_log2(a, f));
    }
    if (!pending) return;
    for (std::int64_t i = 0; i < len; ++i)
        if (mx_element_needs_log2(src[i] / scale, f))
            dst[i] = mx_quantize_dequantize(src[i], scale, f, Even);
}

// Rows [r0, r1) of rows x cols in groups of `group` columns: parameters from each group's
// range, then q-dq.
QS_CPU_CLONES
void int_group_rows(const float* in, float* out, std::int64_t r0, std::int64_t r1,
                    std::int64_t cols, std::int64_t group, int bits, bool symmetric, bool awq_style,
                    bool fp16)
{
    for (auto r = r0; r < r1; ++r) {
        for (std::int64_t c0 = 0; c0 < cols; c0 += group) {
            const auto len = std::min(group, cols - c0);
            const float* v = in + r * cols + c0;
            float* o = out + r * cols + c0;
            const auto range = range_of(v, len);
            if (!awq_style) {
                const auto p = gptq_int_params(range.lo, range.hi, bits, symmetric, fp16);
                for (std::int64_t i = 0; i < len; ++i)
                    o[i] = int_quantize_dequantize(v[i], p);
            } else if (symmetric) {
                const auto p = awq_int_params(range.lo, range.hi, range.amax, bits, true, fp16);
                for (std::int64_t i = 0; i < len; ++i)
                    o[i] = int_quantize_dequantize_signed(v[i], p);
            } else {
                const auto p = awq_int_params(range.lo, range.hi, range.amax, bits, false, fp16);
                for (std::int64_t i = 0; i < len; ++i)
                    o[i] = int_quantize_dequantize(v[i], p);
            }
        }
    }
}

void int_groups_cpu(const float* in, float* out, std::int64_t rows, std::int64_t cols,
                    std::int64_t group, int bits, bool symmetric, bool awq_style, bool fp16)
{
    parallel_items(rows, cols, [&](std::int64_t r0, std::int64_t r1) {
        int_group_rows(in, out, r0, r1, cols, group, bits, symmetric, awq_style, fp16);
    });
}

// Blocks [b0, b1) of the rows x n MX tensor, `nblocks` blocks a row (the last one may be short).
QS_CPU_CLONES
void mx_blocks(const float* src, float* dst, std::int64_t b0, std::int64_t b1, std::int64_t n,
               std::int64_t nblocks, std::int64_t block_size, MxFormat f, bool even)
{
    for (auto b = b0; b < b1; ++b) {
        const auto offset = (b / nblocks) * n + (b % nblocks) * block_size;
        const auto len = std::min<std::int64_t>(block_size, n - (b % nblocks) * block_size);
        const float scale = mx_block_scale(absmax_of(src + offset, len), f.emax);
        // Separate loops per element kind and rounding: the INT ones vectorise (no log2).
        if (f.ebits == 0 && !even) {
            for (std::int64_t i = offset; i < offset + len; ++i)
                dst[i] = mx_quantize_dequantize(src[i], scale, f, false);
        } else if (f.ebits == 0) {
            for (std::int64_t i = offset; i < offset + len; ++i)
                dst[i] = mx_quantize_dequantize(src[i], scale, f, true);
        } else if (!even) {
            mx_fp_block<false>(src + offset, dst + offset, len, scale, f);
        } else {
            mx_fp_block<true>(src + offset, dst + offset, len, scale, f);
        }
    }
}

QS_LOOP_INLINE void fp8_span(const float* src, float* dst, std::int64_t len, float scale,
                             const Fp8Format& f)
{
    for (std::int64_t i = 0; i < len; ++i)
        dst[i] = fp8_quantize_dequantize(src[i], scale, f);
}

// Rows [r0, r1) of rows x n, each with the scale of its own absmax.
QS_CPU_CLONES
void fp8_rows(const float* src, float* dst, std::int64_t r0, std::int64_t r1, std::int64_t n,
              Fp8Format f)
{
    for (auto r = r0; r < r1; ++r)
        fp8_span(src + r * n, dst + r * n, n, fp8_scale(absmax_of(src + r * n, n), f), f);
}

// The per-tensor passes: a slice's absmax, then a slice with the tensor's scale.
QS_CPU_CLONES
float fp8_slice_absmax(const float* src, std::int64_t len)
{
    return absmax_of(src, len);
}
QS_CPU_CLONES
void fp8_slice(const float* src, float* dst, std::int64_t len, float scale, Fp8Format f)
{
    fp8_span(src, dst, len, scale, f);
}

#ifdef QS_CUDA
void* current_stream(const torch::Tensor& x)
{
    return c10::cuda::getCurrentCUDAStream(x.device().index()).stream();
}

void check_cuda(const char* error, const char* what)
{
    if (error) throw QsError(std::string(what) + ": CUDA error: " + error);
}
#endif

// INT quantize-dequantize of `in` [rows, cols] (float32, contiguous) in column groups, with the
// GPTQ parameters or (awq) the AWQ/SmoothQuant pseudo-quantizer's, on in's device.
torch::Tensor int_groups_kernel(const torch::Tensor& in, std::int64_t rows, std::int64_t cols,
                                std::int64_t group, int bits, bool symmetric, bool awq,
                                bool fp16_scales, const char* what)
{
    auto out = torch::empty_like(in);
    if (in.is_cpu()) {
        int_groups_cpu(in.data_ptr<float>(), out.data_ptr<float>(), rows, cols, group, bits,
                       symmetric, awq, fp16_scales);
        return out;
    }
#ifdef QS_CUDA
    c10::cuda::CUDAGuard guard(in.device());
    check_cuda(cuda::int_groups_quantize_dequantize(in.data_ptr<float>(), out.data_ptr<float>(),
                                                    rows, cols, group, bits, symmetric, awq,
                                                    fp16_scales, current_stream(in)),
               what);
#endif
    return out;
}

// Returns x as float32 contiguous on its device (no copy when it already is).
torch::Tensor staged(const torch::Tensor& x)
{
    return x.to(torch::kFloat32).contiguous();
}

}  // namespace

torch::Tensor mx_quantize_dequantize_fused(const torch::Tensor& x, MxElement element,
                                           int block_size, Rounding rounding)
{
    if (block_size <= 0)
        throw QsError("MX quantizer: block size must be positive, got " +
                      std::to_string(block_size));
    if (x.numel() == 0) return x.clone();
    const bool on_cpu = x.is_cpu();
    if (!device_has_kernel(x))
        return mx_quantize_dequantize_tensor_ops(x, element, block_size, rounding);
    const auto format = mx_format(element);
    const bool even = rounding == Rounding::Even;
    auto in = staged(x);
    auto out = torch::empty_like(in);
    const std::int64_t n = last_dim(in);
    const std::int64_t rows = in.numel() / n;
    if (on_cpu) {
        const std::int64_t nblocks = (n + block_size - 1) / block_size;
        const float* src = in.data_ptr<float>();
        float* dst = out.data_ptr<float>();
        parallel_items(rows * nblocks, block_size, [&](std::int64_t b0, std::int64_t b1) {
            // The format by value: a local, which the stores cannot alias.
            mx_blocks(src, dst, b0, b1, n, nblocks, block_size, format, even);
        });
    }
#ifdef QS_CUDA
    else {
        c10::cuda::CUDAGuard guard(x.device());
        check_cuda(cuda::mx_quantize_dequantize(in.data_ptr<float>(), out.data_ptr<float>(), rows,
                                                n, block_size, format, even, current_stream(x)),
                   "MX quantizer");
    }
#endif
    return x.scalar_type() == torch::kFloat32 || !x.is_floating_point() ? out
                                                                        : out.to(x.scalar_type());
}

torch::Tensor int_fake_quantize_groups_fused(const torch::Tensor& w, int bits, bool symmetric,
                                             int group_size, bool fp16_scales)
{
    check_bits(bits);
    if (w.dim() != 2) throw QsError("integer quantizer: expected a 2-D weight");
    if (w.numel() == 0) return w.to(torch::kFloat32).clone();
    if (!device_has_kernel(w)) {
        Fp16ScaleScope scope(fp16_scales);
        return int_fake_quantize_groups_tensor_ops(w, bits, symmetric, group_size);
    }
    auto in = staged(w);
    const auto rows = in.size(0), cols = in.size(1);
    const std::int64_t group = group_size <= 0 || group_size >= cols ? cols : group_size;
    return int_groups_kernel(in, rows, cols, group, bits, symmetric, /*awq=*/false, fp16_scales,
                             "integer quantizer");
}

torch::Tensor int_activation_fake_quantize_fused(const torch::Tensor& x, int bits, bool symmetric,
                                                 int group_size, bool fp16_scales)
{
    check_bits(bits);
    if (x.numel() == 0) return x.to(torch::kFloat32).clone();
    auto in = staged(x);
    const std::int64_t cols = last_dim(in);
    const std::int64_t rows = in.numel() / cols;
    const std::int64_t group = group_size <= 0 || group_size >= cols ? cols : group_size;
    if (!device_has_kernel(x)) {
        // The torch path of fake_quantize.cpp, column group by column group.
        Fp16ScaleScope scope(fp16_scales);
        auto rows2d = in.reshape({rows, cols});
        auto out = torch::empty_like(rows2d);
        for (std::int64_t c0 = 0; c0 < cols; c0 += group) {
            auto part = rows2d.narrow(1, c0, std::min(group, cols - c0));
            out.narrow(1, c0, part.size(1))
                .copy_(int_quantize_dequantize(part, awq_find_params(part, bits, symmetric)));
        }
        return out.reshape(x.sizes());
    }
    return int_groups_kernel(in, rows, cols, group, bits, symmetric, /*awq=*/true, fp16_scales,
                             "activation quantizer")
        .reshape(x.sizes());
}

torch::Tensor fp8_fake_quantize_fused(const torch::Tensor& x, Fp8Variant variant, bool per_row)
{
    if (x.numel() == 0) return x.clone();
    const bool on_cpu = x.is_cpu();
    if (!device_has_kernel(x)) return fp8_fake_quantize_tensor_ops(x, variant, per_row);
    const auto format = fp8_format(variant);
    auto in = staged(x);
    auto out = torch::empty_like(in);
    const std::int64_t n = per_row ? last_dim(in) : in.numel();
    const std::int64_t rows = in.numel() / n;
    if (on_cpu) {
        const float* src = in.data_ptr<float>();
        float* dst = out.data_ptr<float>();
        if (per_row) {
            parallel_items(rows, n, [&](std::int64_t r0, std::int64_t r1) {
                fp8_rows(src, dst, r0, r1, n, format);
            });
        } else {
            float amax = 0.0f;
            std::mutex mutex;
            parallel_items(n, 1, [&](std::int64_t i0, std::int64_t i1) {
                const float part = fp8_slice_absmax(src + i0, i1 - i0);
                std::lock_guard<std::mutex> lock(mutex);
                amax = nan_max(amax, part);
            });
            const float scale = fp8_scale(amax, format);
            parallel_items(n, 1, [&](std::int64_t i0, std::int64_t i1) {
                fp8_slice(src + i0, dst + i0, i1 - i0, scale, format);
            });
        }
    }
#ifdef QS_CUDA
    else {
        c10::cuda::CUDAGuard guard(x.device());
        auto scratch = torch::empty({1}, in.options().dtype(torch::kInt32));
        check_cuda(cuda::fp8_quantize_dequantize(
                       in.data_ptr<float>(), out.data_ptr<float>(), rows, n, format, per_row,
                       reinterpret_cast<std::uint32_t*>(scratch.data_ptr<std::int32_t>()),
                       current_stream(x)),
                   "FP8 quantizer");
    }
#endif
    return out.to(x.scalar_type());
}

}  // namespace qs::kernels
