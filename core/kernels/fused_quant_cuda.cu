// CUDA kernels of the fused quantize-dequantize (see fused_quant_cuda.h): one warp per MX block,
// INT group or FP8 row computes the parameters with a warp reduction (max / min are exact and
// order-independent, NaN wins as in the CPU loops), then every lane quantizes its elements with
// the same QS_HD functions as the CPU (quant_math.h). Built with --fmad=false, so no multiply-add
// is contracted and the float operations are the CPU's, bit for bit.
#include <cuda_runtime.h>

#include "core/kernels/fused_quant_cuda.h"
#include "core/kernels/quant_math.h"

namespace qs::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;
constexpr std::int64_t kMaxGrid = 65535LL * 16;

__device__ __forceinline__ float warp_max(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

__device__ __forceinline__ float warp_min(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        v = nan_min(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

__device__ __forceinline__ std::int64_t global_warp()
{
    return (std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
}

__device__ __forceinline__ std::int64_t warp_count()
{
    return (std::int64_t(gridDim.x) * blockDim.x) >> 5;
}

unsigned grid_for_warps(std::int64_t warps)
{
    const std::int64_t blocks = (warps + kWarpsPerBlock - 1) / kWarpsPerBlock;
    return unsigned(blocks < 1 ? 1 : (blocks > kMaxGrid ? kMaxGrid : blocks));
}

// Every lane of a warp walks the same ids, so the full-mask shuffles see all 32 lanes.
__global__ void mx_kernel(const float* x, float* out, std::int64_t rows, std::int64_t n,
                          int block_size, MxFormat format, bool even)
{
    const int lane = threadIdx.x & 31;
    const std::int64_t nblocks = (n + block_size - 1) / block_size;
    for (std::int64_t id = global_warp(); id < rows * nblocks; id += warp_count()) {
        const std::int64_t row = id / nblocks;
        const std::int64_t c0 = (id % nblocks) * block_size;
        const std::int64_t len = n - c0 < block_size ? n - c0 : block_size;
        const float* v = x + row * n + c0;
        float* o = out + row * n + c0;
        float amax = 0.0f;
        for (std::int64_t i = lane; i < len; i += 32)
            amax = nan_max(amax, abs_f(v[i]));
        const float scale = mx_block_scale(warp_max(amax), format.emax);
        for (std::int64_t i = lane; i < len; i += 32)
            o[i] = mx_quantize_dequantize(v[i], scale, format, even);
    }
}

__global__ void int_groups_kernel(const float* x, float* out, std::int64_t rows, std::int64_t cols,
                                  std::int64_t group, int bits, bool symmetric, bool awq_style,
                                  bool fp16_scales)
{
    const int lane = threadIdx.x & 31;
    const std::int64_t ngroups = (cols + group - 1) / group;
    const float inf = bits_float(0x7f800000u);
    for (std::int64_t id = global_warp(); id < rows * ngroups; id += warp_count()) {
        const std::int64_t row = id / ngroups;
        const std::int64_t c0 = (id % ngroups) * group;
        const std::int64_t len = cols - c0 < group ? cols - c0 : group;
        const float* v = x + row * cols + c0;
        float* o = out + row * cols + c0;
        float lo = inf, hi = -inf, amax = 0.0f;
        for (std::int64_t i = lane; i < len; i += 32) {
            lo = nan_min(lo, v[i]);
            hi = nan_max(hi, v[i]);
            amax = nan_max(amax, abs_f(v[i]));
        }
        lo = warp_min(lo);
        hi = warp_max(hi);
        amax = warp_max(amax);
        if (!awq_style) {
            const IntAffine p = gptq_int_params(lo, hi, bits, symmetric, fp16_scales);
            for (std::int64_t i = lane; i < len; i += 32)
                o[i] = int_quantize_dequantize(v[i], p);
        } else {
            const IntAffine p = awq_int_params(lo, hi, amax, bits, symmetric, fp16_scales);
            for (std::int64_t i = lane; i < len; i += 32)
                o[i] = symmetric ? int_quantize_dequantize_signed(v[i], p)
                                 : int_quantize_dequantize(v[i], p);
        }
    }
}

__global__ void fp8_rows_kernel(const float* x, float* out, std::int64_t rows, std::int64_t n,
                                Fp8Format format)
{
    const int lane = threadIdx.x & 31;
    for (std::int64_t row = global_warp(); row < rows; row += warp_count()) {
        const float* v = x + row * n;
        float* o = out + row * n;
        float amax = 0.0f;
        for (std::int64_t i = lane; i < n; i += 32)
            amax = nan_max(amax, abs_f(v[i]));
        const float scale = fp8_scale(warp_max(amax), format);
        for (std::int64_t i = lane; i < n; i += 32)
            o[i] = fp8_quantize_dequantize(v[i], scale, format);
    }
}

// |x| as bits: for non-negative floats the unsigned order is the float order, and every NaN
// (sign cleared) is above +Inf, so an atomicMax over the bits is a NaN-propagating absmax.
__global__ void absmax_bits_kernel(const float* x, std::int64_t count, std::uint32_t* result)
{
    std::uint32_t m = 0;
    const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
    for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
         i += stride) {
        const std::uint32_t b = float_bits(x[i]) & ~kSignMask;
        m = b > m ? b : m;
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        const std::uint32_t other = __shfl_xor_sync(0xffffffffu, m, offset);
        m = other > m ? other : m;
    }
    if ((threadIdx.x & 31) == 0) atomicMax(result, m);
}

__global__ void fp8_tensor_kernel(const float* x, float* out, std::int64_t count, Fp8Format format,
                                  const std::uint32_t* absmax_bits)
{
    const float scale = fp8_scale(bits_float(*absmax_bits), format);
    const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
    for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
         i += stride)
        out[i] = fp8_quantize_dequantize(x[i], scale, format);
}

const char* last_error()
{
    const cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace

const char* mx_quantize_dequantize(const float* x, float* out, std::int64_t rows, std::int64_t n,
                                   int block_size, MxFormat format, bool even, void* stream)
{
    if (rows <= 0 || n <= 0) return nullptr;
    const std::int64_t blocks = rows * ((n + block_size - 1) / block_size);
    mx_kernel<<<grid_for_warps(blocks), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        x, out, rows, n, block_size, format, even);
    return last_error();
}

const char* int_groups_quantize_dequantize(const float* x, float* out, std::int64_t rows,
                                           std::int64_t cols, std::int64_t group, int bits,
                                           bool symmetric, bool awq_style, bool fp16_scales,
                                           void* stream)
{
    if (rows <= 0 || cols <= 0) return nullptr;
    const std::int64_t groups = rows * ((cols + group - 1) / group);
    int_groups_kernel<<<grid_for_warps(groups), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        x, out, rows, cols, group, bits, symmetric, awq_style, fp16_scales);
    return last_error();
}

const char* fp8_quantize_dequantize(const float* x, float* out, std::int64_t rows, std::int64_t n,
                                    Fp8Format format, bool per_row, std::uint32_t* scratch,
                                    void* stream)
{
    if (rows <= 0 || n <= 0) return nullptr;
    auto s = static_cast<cudaStream_t>(stream);
    if (per_row) {
        fp8_rows_kernel<<<grid_for_warps(rows), kThreads, 0, s>>>(x, out, rows, n, format);
        return last_error();
    }
    const std::int64_t count = rows * n;
    const unsigned grid = grid_for_warps((count + 31) / 32);
    if (cudaMemsetAsync(scratch, 0, sizeof(std::uint32_t), s) != cudaSuccess) return last_error();
    absmax_bits_kernel<<<grid, kThreads, 0, s>>>(x, count, scratch);
    fp8_tensor_kernel<<<grid, kThreads, 0, s>>>(x, out, count, format, scratch);
    return last_error();
}

}  // namespace qs::kernels::cuda
