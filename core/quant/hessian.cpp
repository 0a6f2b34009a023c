// HessianAccumulator: the running update of the GPTQ reference (gptq.py GPTQ.add_batch), in the
// same float32 operation order: H *= N / (N + n); N += n; x *= sqrt(2 / N); H += x^T x.
#include <cmath>
#include <string>

#include "core/quant/gptq.h"
#include "core/util/error.h"

namespace qs {

HessianAccumulator::HessianAccumulator(std::int64_t columns, const torch::Device& device)
{
    if (columns <= 0)
        throw QsError("Hessian accumulator: columns must be positive, got " +
                      std::to_string(columns));
    m_h = torch::zeros({columns, columns}, torch::TensorOptions(torch::kFloat32).device(device));
}

void HessianAccumulator::add_batch(const torch::Tensor& x)
{
    const auto columns = m_h.size(0);
    if ((x.dim() != 2 && x.dim() != 3) || x.size(-1) != columns)
        throw QsError("Hessian accumulator: expected input [n, T, " + std::to_string(columns) +
                      "] or [T, " + std::to_string(columns) + "], got " + std::to_string(x.dim()) +
                      "-D input with last dimension " +
                      std::to_string(x.dim() > 0 ? x.size(-1) : 0));
    // The reference counts a 2-D input as one sequence and a 3-D input as x.shape[0] sequences.
    const std::int64_t sequences = x.dim() == 3 ? x.size(0) : 1;
    if (sequences == 0) return;
    auto rows = x.reshape({-1, columns}).to(m_h.device(), torch::kFloat32);

    m_h.mul_(double(m_samples) / double(m_samples + sequences));
    m_samples += sequences;
    rows = rows * std::sqrt(2.0 / double(m_samples));
    m_h.addmm_(rows.t(), rows);
}

}  // namespace qs
