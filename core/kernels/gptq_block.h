// GPTQ's in-block column loop for INT formats on the row solver of core/kernels/gptq_block_math.h:
// a scalar CPU loop (the reference the CUDA kernel is tested against, bit-identical to
// solve_block_int_reference and solve_block_int_fast) and, under QS_CUDA, the CUDA kernel for a
// BlockState whose tensors live on a CUDA device. Same contract as the other block solvers
// (core/quant/gptq_internal.h): columns [i1, i2) into q_t/losses_t, returns Err1^T.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "core/kernels/gptq_block_math.h"
#include "core/quant/gptq_internal.h"

namespace qs::gptq_detail {

// One row at a time with the QS_HD row solver, rows in parallel (CPU tensors). Refreshes the
// dynamic groups that start in the block first, as solve_block_int_fast.
torch::Tensor solve_block_int_rows(BlockState& state, std::int64_t i1, std::int64_t i2);

// The block's raw-pointer arguments; the group parameters are made contiguous into *scales and
// *zeros (kept alive by the caller) and group_of is read from `group_of` (host or device copy).
kernels::GptqBlockArgs gptq_block_args(BlockState& state, std::int64_t i1, std::int64_t i2,
                                       const torch::Tensor& err1_t, torch::Tensor* scales,
                                       torch::Tensor* zeros, const std::int64_t* group_of);

#ifdef QS_CUDA
// The block on the GPU (state.w.is_cuda()): refresh on the device with torch ops, then one CUDA
// thread per row. Falls back to solve_block_int_reference when the block's Hinv does not fit in
// shared memory (blocksize above ~230 columns).
torch::Tensor solve_block_int_cuda(BlockState& state, std::int64_t i1, std::int64_t i2);
#endif

}  // namespace qs::gptq_detail
