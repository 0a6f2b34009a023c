#include "core/model/attention.h"

#include <algorithm>
#include <limits>

#include "core/model/compute_dtype.h"

namespace qs {
namespace {

// Score-matrix bytes per chunk: small enough that the mask, softmax and the product with v run
// in cache instead of streaming a [B, H, T, T] tensor through memory several times.
constexpr std::int64_t kChunkScoreBytes = std::int64_t(8) << 20;

}  // namespace

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale,
                               std::optional<std::int64_t> sliding_window)
{
    const auto batch = q.size(0), heads = q.size(1), length = q.size(2), dim = q.size(3);
    const auto kv_heads = k.size(1);
    const auto group = heads / kv_heads;
    // Query heads of one kv group side by side: [B*KV, group*T, D] against k [B*KV, T, D], so
    // GQA needs no copy of k and v.
    auto qg = (q * scale).reshape({batch * kv_heads, group * length, dim});
    auto kt = k.reshape({batch * kv_heads, length, dim}).transpose(1, 2);
    auto vv = v.reshape({batch * kv_heads, length, dim});

    auto rows = torch::arange(length, q.options().dtype(torch::kLong)).unsqueeze(1);
    auto cols = torch::arange(length, q.options().dtype(torch::kLong)).unsqueeze(0);
    auto masked = cols > rows;
    if (sliding_window) masked = masked.logical_or(cols <= rows - *sliding_window);
    // Scores, mask and the product with v in the compute dtype (q's); softmax in float32 and
    // the probabilities cast back, as HF's eager attention: softmax(dtype=float32).to(q.dtype).
    auto mask = torch::zeros({length, length}, q.options())
                    .masked_fill_(masked, -std::numeric_limits<float>::infinity())
                    .repeat({group, 1});  // [group*T, T], matches qg's row order

    const std::int64_t slices = batch * kv_heads;
    const std::int64_t per_slice = group * length * length * 4;  // float32 probabilities
    const std::int64_t chunk = std::clamp<std::int64_t>(kChunkScoreBytes / per_slice, 1, slices);
    auto out = torch::empty({slices, group * length, dim}, q.options());
    for (std::int64_t s0 = 0; s0 < slices; s0 += chunk) {
        const std::int64_t s1 = std::min(slices, s0 + chunk);
        auto scores = dtype_baddbmm(mask, qg.slice(0, s0, s1), kt.slice(0, s0, s1));
        auto probs = torch::softmax(scores, -1, torch::kFloat32).to(v.scalar_type());
        out.slice(0, s0, s1).copy_(dtype_bmm(probs, vv.slice(0, s0, s1)));
    }
    return out.view({batch, heads, length, dim})
        .transpose(1, 2)
        .reshape({batch, length, heads * dim});
}

}  // namespace qs
