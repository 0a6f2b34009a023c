#include "core/model/attention.h"

#include <limits>

namespace qs {

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale,
                               std::optional<std::int64_t> sliding_window)
{
    const auto batch = q.size(0), heads = q.size(1), length = q.size(2), dim = q.size(3);
    const auto kv_heads = k.size(1);
    const auto group = heads / kv_heads;
    // Query heads of one kv group side by side: [B, KV, group*T, D] against k [B, KV, T, D], so
    // GQA needs no copy of k and v.
    auto qg = q.reshape({batch, kv_heads, group * length, dim});
    auto scores = torch::matmul(qg, k.transpose(-1, -2)).mul_(scale);  // [B, KV, group*T, T]
    auto rows = torch::arange(length, q.options().dtype(torch::kLong)).unsqueeze(1);
    auto cols = torch::arange(length, q.options().dtype(torch::kLong)).unsqueeze(0);
    auto masked = cols > rows;
    if (sliding_window) masked = masked.logical_or(cols <= rows - *sliding_window);
    scores = scores.view({batch, kv_heads, group, length, length})
                 .masked_fill_(masked, -std::numeric_limits<float>::infinity());
    auto probs = torch::softmax(scores, -1, torch::kFloat32).to(v.scalar_type());
    auto out = torch::matmul(probs.view({batch, kv_heads, group * length, length}), v);
    return out.view({batch, heads, length, dim})
        .transpose(1, 2)
        .reshape({batch, length, heads * dim});
}

}  // namespace qs
