// Torch glue of the fused quantize-dequantize: checks, float32 contiguous staging, the CPU loops
// over rows / groups / blocks (in parallel) and, under QS_CUDA, the dispatch of CUDA tensors to
// fused_quant_cuda.cu on the current stream. The arithmetic is quant_math.h's.
#include "core/kernels/fused_quant.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "core/quant/fp8_quantizer.h"
#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"

// GCC turns the selects of quant_math.h (clamps, the round-to-integer guard) into vector blends
// only when it may evaluate both sides, i.e. without -ftrapping-math. That flag only concerns
// floating-point exception traps, which nothing here enables: no reassociation, no contraction,
// every result stays bit for bit the same (tests/core/test_fused_quant.cpp). Set before
// quant_math.h so that its inline functions carry the same options as the loops they inline into.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "core/kernels/quant_math.h"

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
float absmax_of(const float* v, std::int64_t len)
{
    std::int32_t m = 0;
    for (std::int64_t i = 0; i < len; ++i) {
        const auto b = static_cast<std::int32_t>(float_bits(v[i]) & ~kSignMask);
        m = b > m ? b : m;
    }
    return bits_float(static_cast<std::uint32_t>(m));
}

// Min, max (NaN if any element is NaN, as torch.min/max) and absmax of v[0, len), len >= 1.
// Which zero a min or max of +-0 returns differs with the order; the parameters built from it
// do not (int_quantizer.cpp: the range always holds 0).
struct RangeOf {
    float lo, hi, amax;
};
RangeOf range_of(const float* v, std::int64_t len)
{
    float lo = v[0], hi = v[0];
    std::int32_t nan = 0;
    for (std::int64_t i = 0; i < len; ++i) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
        nan |= static_cast<std::int32_t>(v[i] != v[i]);
    }
    if (nan) lo = hi = quiet_nan();
    return {lo, hi, absmax_of(v, len)};
}

// One MX block of FP elements: a vectorised pass with the exponent-field private exponent, then
// the elements that need the double log2 (the top of a binade, NaN) again with the exact one.
// (Near the top of a binade both exponents round the element to the same power of two, so the
// second pass is a guard more than a correction; it keeps the CPU on the kernels' function.)
template <bool Even>
void mx_fp_block(const float* src, float* dst, std::int64_t len, float scale, const MxFormat& f)
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

// rows x cols in groups of `group` columns: parameters from each group's range, then q-dq.
void int_groups_cpu(const float* in, float* out, std::int64_t rows, std::int64_t cols,
                    std::int64_t group, int bits, bool symmetric, bool awq_style, bool fp16)
{
    parallel_items(rows, cols, [&](std::int64_t r0, std::int64_t r1) {
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
                    const auto p =
                        awq_int_params(range.lo, range.hi, range.amax, bits, false, fp16);
                    for (std::int64_t i = 0; i < len; ++i)
                        o[i] = int_quantize_dequantize(v[i], p);
                }
            }
        }
    });
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

// Whether x's device has a fused path: the CPU always, CUDA in QS_CUDA builds; other devices
// take the tensor-op implementations.
bool has_kernel(const torch::Tensor& x)
{
#ifdef QS_CUDA
    return x.is_cpu() || x.is_cuda();
#else
    return x.is_cpu();
#endif
}

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
    if (!has_kernel(x)) return mx_quantize_dequantize_tensor_ops(x, element, block_size, rounding);
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
            const MxFormat format_local = format;  // a local: the stores cannot alias it
            for (auto b = b0; b < b1; ++b) {
                const auto offset = (b / nblocks) * n + (b % nblocks) * block_size;
                const auto len = std::min<std::int64_t>(block_size, n - (b % nblocks) * block_size);
                const float scale = mx_block_scale(absmax_of(src + offset, len), format_local.emax);
                // Separate loops per element kind and rounding: the INT ones vectorise (no log2).
                if (format_local.ebits == 0 && !even) {
                    for (std::int64_t i = offset; i < offset + len; ++i)
                        dst[i] = mx_quantize_dequantize(src[i], scale, format_local, false);
                } else if (format_local.ebits == 0) {
                    for (std::int64_t i = offset; i < offset + len; ++i)
                        dst[i] = mx_quantize_dequantize(src[i], scale, format_local, true);
                } else if (!even) {
                    mx_fp_block<false>(src + offset, dst + offset, len, scale, format_local);
                } else {
                    mx_fp_block<true>(src + offset, dst + offset, len, scale, format_local);
                }
            }
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
    if (!has_kernel(w)) {
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
    if (!has_kernel(x)) {
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
    if (!has_kernel(x)) return fp8_fake_quantize_tensor_ops(x, variant, per_row);
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
                const Fp8Format f = format;  // a local: the stores cannot alias it
                for (auto r = r0; r < r1; ++r) {
                    const float scale = fp8_scale(absmax_of(src + r * n, n), f);
                    for (auto i = r * n; i < (r + 1) * n; ++i)
                        dst[i] = fp8_quantize_dequantize(src[i], scale, f);
                }
            });
        } else {
            float amax = 0.0f;
            std::mutex mutex;
            parallel_items(n, 1, [&](std::int64_t i0, std::int64_t i1) {
                const float part = absmax_of(src + i0, i1 - i0);
                std::lock_guard<std::mutex> lock(mutex);
                amax = nan_max(amax, part);
            });
            const float scale = fp8_scale(amax, format);
            parallel_items(n, 1, [&](std::int64_t i0, std::int64_t i1) {
                const Fp8Format f = format;
                for (auto i = i0; i < i1; ++i)
                    dst[i] = fp8_quantize_dequantize(src[i], scale, f);
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
