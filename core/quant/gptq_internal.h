// Internals of gptq_quantize (gptq.cpp: driver; gptq_factor.cpp: inverse factor;
// gptq_int_block.cpp and gptq_mx.cpp: block solvers; gptq_support.cpp: CPU helpers), also used
// by the tests that compare the optimised paths with the reference ones. Not a public API.
// Tensors here are in the processing order (the act-order permutation applied) unless stated.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "core/quant/gptq.h"

namespace qs::gptq_detail {

// How the columns of one lazy-update block (B1 columns) are quantized.
enum class BlockSolver {
    Fast,        // INT: rows vectorised in groups on raw pointers (CPU); bit-identical to Reference
    Reference,   // INT: the reference fasterquant loop, one column at a time with tensor ops
    Rows,        // INT: one row at a time (core/kernels/gptq_block.h); bit-identical to Reference
    MicroBlock,  // B2 columns at once (MX; INT per-channel for B2 >= 1, B2 = 1 is plain GPTQ)
};

// How Hinv, the upper Cholesky factor of the damped H^-1, is computed (gptq_factor.cpp).
enum class FactorMethod {
    Reference,  // cholesky -> cholesky_inverse -> cholesky(upper), as the reference (LAPACK)
    Blocked,    // one blocked Cholesky of the reversed H and a blocked triangular inverse (gemm)
};

// Tile size of the blocked factor.
constexpr std::int64_t kFactorBlock = 256;

struct InverseFactor {
    torch::Tensor hinv;  // [n, n] upper triangular, contiguous
    double damping = 0;  // added to the diagonal
    int retries = 0;     // failed attempts before it
};

// Reverses a contiguous tensor's element order in place with tensor ops, `chunk` elements of
// scratch at a time (the factor's J A J on devices other than the CPU).
void reverse_elements_in_chunks(torch::Tensor& t, std::int64_t chunk);

// One attempt on an already damped H: undefined when H is not (numerically) positive definite.
torch::Tensor upper_cholesky_of_inverse_reference(const torch::Tensor& h);
torch::Tensor upper_cholesky_of_inverse_blocked(const torch::Tensor& h,
                                                std::int64_t block = kFactorBlock);
// The factor of H in the processing order: P^T H P with dead (H_jj = 0) diagonals set to 1,
// perm[c] = original index of processing column c (empty: identity); h is float32 and finite.
// damp = percdamp * mean(diag) as the reference; on failure retry with 0.0015 * mean(diag) more
// per attempt (GPTQModel), up to max_retries times, then QsError.
InverseFactor damped_inverse_factor(const torch::Tensor& h, const torch::Tensor& dead,
                                    const std::vector<std::int64_t>& perm, double percdamp,
                                    int max_retries, FactorMethod method);

// INT quantizer parameters by group index, and which group each processing column uses.
struct IntGroups {
    int bits = 4;
    bool symmetric = false;
    bool mse = false;
    torch::Tensor scales;                // [rows, groups] float32
    torch::Tensor zeros;                 // [rows, groups] float32, integer-valued
    std::vector<std::int64_t> group_of;  // [cols] group index of each processing column
    // > 0 (dynamic groups): parameters of group c / g are computed when processing column c
    // (c % g == 0) from W[:, c:c+g] as it stands then (see refresh()).
    std::int64_t dynamic_group_size = 0;
    // group_of as int64 on the weights' device, made on first use by the CUDA block solver.
    torch::Tensor group_of_on_device;

    bool starts_group(std::int64_t c) const
    {
        return dynamic_group_size > 0 && c % dynamic_group_size == 0;
    }
    // Dynamic groups: parameters of the group starting at processing column c from w[:, c:c+g].
    void refresh(const torch::Tensor& w, std::int64_t c);
    // Parameters of processing column c as [rows, 1] tensors.
    torch::Tensor scale_of(std::int64_t c) const;
    torch::Tensor zero_of(std::int64_t c) const;
};

// The working state of one run. w holds the weights as the reference's W: error-updated up to
// the start of the current block (the lazy update runs after each block). The outputs are kept
// transposed, [columns, rows], so that the row-vectorised solver stores whole vectors: row
// c - out_first holds column c. gptq_quantize passes one block's worth ([blocksize, rows],
// out_first = i1) and moves each block into W's finished columns, so no [rows, cols] output
// buffer exists beside W; the tests may pass whole [cols, rows] outputs with out_first 0.
struct BlockState {
    torch::Tensor w;              // [rows, cols] float32, contiguous
    torch::Tensor hinv;           // [cols, cols] upper Cholesky factor of the damped H^-1
    torch::Tensor q_t;            // [columns, rows] dequantized result
    torch::Tensor losses_t;       // [columns, rows] per-weight losses, already halved
    IntGroups* groups = nullptr;  // INT runs only
    torch::Tensor err_t;          // [blocksize, rows] scratch the fast solver reuses for Err1^T
    std::int64_t out_first = 0;   // the column that row 0 of q_t / losses_t holds
};

// Each solver quantizes columns [i1, i2) into q_t/losses_t and returns Err1^T [i2 - i1, rows],
// the scaled errors that the caller's lazy update W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:] consumes.
torch::Tensor solve_block_int_reference(BlockState& state, std::int64_t i1, std::int64_t i2);
torch::Tensor solve_block_int_fast(BlockState& state, std::int64_t i1, std::int64_t i2);

// f(begin, end) on chunks of [0, n) (at least `grain` each) on at::get_num_threads() threads.
// at::parallel_for is header-only and runs serially unless the caller is compiled with OpenMP
// (qs_core is not), so without OpenMP the chunks run on std::threads.
void parallel_chunks(std::int64_t n, std::int64_t grain,
                     const std::function<void(std::int64_t, std::int64_t)>& f);

// Whether every element is finite, in one pass without a tensor-sized temporary.
bool all_finite(const torch::Tensor& t);

// t [cols, rows] -> out [rows, cols]: out[r, j] = t[j, r] (a solved block's transposed outputs
// into W's columns). out must not overlap t; its rows may be strided (a column slice of a
// wider matrix).
void transpose_into(const torch::Tensor& t, torch::Tensor& out);

// [rows, n] -> fake-quantized [rows, n], quantizing the n columns together.
using MicroQuantizer = std::function<torch::Tensor(const torch::Tensor&)>;
torch::Tensor solve_block_micro(BlockState& state, std::int64_t i1, std::int64_t i2,
                                std::int64_t micro_block, const MicroQuantizer& quantize);
// MX fake quantization along the columns of the slice (gptq_mx.cpp).
MicroQuantizer mx_micro_quantizer(const QuantFormat& format);

// gptq_quantize with a chosen block solver and factor method (the tests compare them).
// gptq_quantize uses Fast (MicroBlock for MX) with the Blocked factor.
GptqResult gptq_quantize_with(const torch::Tensor& weight, torch::Tensor hessian,
                              const GptqOptions& options, BlockSolver solver, FactorMethod factor,
                              Feedback* feedback = nullptr);

}  // namespace qs::gptq_detail
