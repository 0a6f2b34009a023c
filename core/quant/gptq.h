// GPTQ (Frantar et al. 2022) exactly as the reference IST-DASLab/gptq (gptq.py fasterquant +
// quant.py), with the MX block-wise form of the seed paper (Algorithm 1).
// Conventions: W is [out, in] (rows = output channels, columns = input channels), float32.
// Hessian: H = (2 / N) * sum over all calibration tokens of x x^T, N = number of sequences
// (add_batch's running update H = H*N/(N+n) + 2/(N+n) X^T X).
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "core/quant/quant_format.h"

namespace qs {

class Feedback;

class HessianAccumulator {
public:
    HessianAccumulator(std::int64_t columns, const torch::Device& device = torch::kCPU);
    // x: [n, T, columns] (n sequences) or [T, columns] (one sequence), any float dtype.
    void add_batch(const torch::Tensor& x);
    const torch::Tensor& hessian() const { return m_h; }  // [columns, columns] float32
    std::int64_t samples() const { return m_samples; }

private:
    torch::Tensor m_h;
    std::int64_t m_samples = 0;
};

struct GptqOptions {
    // Int (bits, symmetric, Channel or Group with group_size, mse) or Mx (element, block_size,
    // rounding). Other kinds are rejected.
    QuantFormat format;
    int blocksize = 128;     // B1: columns per lazy-update block
    double percdamp = 0.01;  // damping = percdamp * mean(diag(H))
    bool act_order = false;  // desc_act: columns by descending diag(H)
    bool static_groups = false;
    // MX: B2, columns quantized together from the current error-updated weights (a multiple
    // of the MX block; 0 = the MX block size). Int with mx_micro_block = 1 is plain GPTQ.
    int mx_micro_block = 0;
    int max_damp_retries = 20;  // on Cholesky failure add 0.0015 * mean(diag) more (GPTQModel)
    // Return the [rows, cols] per-weight losses (GptqResult::losses). Without them the run holds
    // one [rows, cols] float32 buffer fewer (0.18 GiB for a 7B down_proj); column_error and
    // total_error are there either way.
    bool keep_losses = true;
};

struct GptqResult {
    torch::Tensor weight;  // dequantized Q [rows, cols], original column order
    // [rows, cols] per-weight loss (halved as the reference), original order; undefined unless
    // GptqOptions::keep_losses.
    torch::Tensor losses;
    torch::Tensor column_error;  // [cols] losses summed over rows, original order
    torch::Tensor perm;          // [cols] int64 processing order (act-order), undefined otherwise
    torch::Tensor g_idx;         // [cols] int32 group index of each original column (INT groups)
    torch::Tensor scales;        // [rows, groups] INT scales (by group index), undefined for MX
    torch::Tensor zeros;         // [rows, groups] INT zero points
    torch::Tensor hessian_diag;  // [cols] diag(H) after the dead-column fix, before damping
    double total_error = 0;      // sum of losses
    double damping = 0;          // damping actually added to the diagonal
    int damp_retries = 0;
};

// Quantizes `weight` with Hessian `hessian` (its values are not modified). Throws QsError for
// unsupported formats or shapes; CancelledError between column blocks when feedback is
// cancelled. The Hessian is taken by value: a caller that moves its only handle in lets it be
// freed once the inverse factor exists (0.45 GiB for a 7B down_proj) instead of at return.
GptqResult gptq_quantize(const torch::Tensor& weight, torch::Tensor hessian,
                         const GptqOptions& options, Feedback* feedback = nullptr);

}  // namespace qs
