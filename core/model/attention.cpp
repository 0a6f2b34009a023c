#include "core/model/attention.h"

#include <algorithm>
#include <limits>

#include "core/model/compute_dtype.h"
#include "core/util/error.h"

namespace qs {
namespace {

// Score-matrix bytes per chunk: small enough that the mask, softmax and the product with v run
// in cache instead of streaming a [B, H, T, T] tensor through memory several times.
constexpr std::int64_t kChunkScoreBytes = std::int64_t(8) << 20;

// libtorch's CPU bmm accumulates bfloat16 in bfloat16 when a product has fewer than 400
// multiply-adds per matrix (1.13's small-matrix kernel; several bfloat16 units off), and a step
// against a KV cache, with its few query rows, is mostly such products, while a full forward's
// large ones (and a GPU's) accumulate in float32 and round once. So a cached step computes its
// bfloat16 products in float32 on the bfloat16 values and rounds the result: the full forward's
// numbers. Without a cache (keys == queries) nothing changes.
bool widen_cached_products(const torch::Tensor& q, std::int64_t keys, std::int64_t length)
{
    return keys > length && q.scalar_type() == torch::kBFloat16 && q.is_cpu();
}

torch::Tensor widened_baddbmm(const torch::Tensor& add, const torch::Tensor& a,
                              const torch::Tensor& b)
{
    return torch::baddbmm(add.to(torch::kFloat32), a.to(torch::kFloat32), b.to(torch::kFloat32))
        .to(a.scalar_type());
}

torch::Tensor widened_bmm(const torch::Tensor& a, const torch::Tensor& b)
{
    return torch::bmm(a.to(torch::kFloat32), b.to(torch::kFloat32)).to(a.scalar_type());
}

}  // namespace

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale,
                               std::optional<std::int64_t> sliding_window)
{
    const auto batch = q.size(0), heads = q.size(1), length = q.size(2), dim = q.size(3);
    const auto kv_heads = k.size(1), keys = k.size(2);
    const auto group = heads / kv_heads;
    if (keys < length) throw QsError("causal attention: fewer keys than queries");
    // Query heads of one kv group side by side: [B*KV, group*T_q, D] against k [B*KV, T_k, D],
    // so GQA needs no copy of k and v (a cache's [B, KV, T_k, D] view reshapes without one).
    auto qg = (q * scale).reshape({batch * kv_heads, group * length, dim});
    auto kt = k.reshape({batch * kv_heads, keys, dim}).transpose(1, 2);
    auto vv = v.reshape({batch * kv_heads, keys, dim});

    // Query row i is position (T_k - T_q) + i: the cached tokens come before it.
    auto rows = torch::arange(keys - length, keys, q.options().dtype(torch::kLong)).unsqueeze(1);
    auto cols = torch::arange(keys, q.options().dtype(torch::kLong)).unsqueeze(0);
    auto masked = cols > rows;
    if (sliding_window) masked = masked.logical_or(cols <= rows - *sliding_window);
    // Scores, mask and the product with v in the compute dtype (q's); softmax in float32 and
    // the probabilities cast back, as HF's eager attention: softmax(dtype=float32).to(q.dtype).
    auto mask = torch::zeros({length, keys}, q.options())
                    .masked_fill_(masked, -std::numeric_limits<float>::infinity())
                    .repeat({group, 1});  // [group*T_q, T_k], matches qg's row order

    const std::int64_t slices = batch * kv_heads;
    const std::int64_t per_slice = group * length * keys * 4;  // float32 probabilities
    const std::int64_t chunk = std::clamp<std::int64_t>(kChunkScoreBytes / per_slice, 1, slices);
    const bool widen = widen_cached_products(q, keys, length);
    auto out = torch::empty({slices, group * length, dim}, q.options());
    for (std::int64_t s0 = 0; s0 < slices; s0 += chunk) {
        const std::int64_t s1 = std::min(slices, s0 + chunk);
        auto qs = qg.slice(0, s0, s1), ks = kt.slice(0, s0, s1), vs = vv.slice(0, s0, s1);
        auto scores = widen ? widened_baddbmm(mask, qs, ks) : dtype_baddbmm(mask, qs, ks);
        auto probs = torch::softmax(scores, -1, torch::kFloat32).to(v.scalar_type());
        out.slice(0, s0, s1).copy_(widen ? widened_bmm(probs, vs) : dtype_bmm(probs, vs));
    }
    return out.view({batch, heads, length, dim})
        .transpose(1, 2)
        .reshape({batch, length, heads * dim});
}

}  // namespace qs
