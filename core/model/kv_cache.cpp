#include "core/model/kv_cache.h"

#include <algorithm>

#include "core/util/error.h"

namespace qs {
namespace {

// Storage for `capacity` tokens holding `used` tokens of `old` (when defined).
torch::Tensor grown(const torch::Tensor& old, const torch::Tensor& like, std::int64_t used,
                    std::int64_t capacity)
{
    auto storage =
        torch::empty({like.size(0), like.size(1), capacity, like.size(3)}, like.options());
    if (used > 0) storage.narrow(2, 0, used).copy_(old.narrow(2, 0, used));
    return storage;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> LayerKvCache::append(const torch::Tensor& k,
                                                             const torch::Tensor& v)
{
    if (k.dim() != 4 || v.sizes() != k.sizes())
        throw QsError("kv cache: keys and values must both be [batch, heads, tokens, dim]");
    const auto added = k.size(2);
    const auto needed = m_length + added;
    if (m_key.defined() && (k.size(0) != m_key.size(0) || k.size(1) != m_key.size(1) ||
                            k.size(3) != m_key.size(3) || k.scalar_type() != m_key.scalar_type()))
        throw QsError("kv cache: appended keys differ in batch, heads, dim or dtype");
    const auto have = m_key.defined() ? m_key.size(2) : 0;
    if (needed > have) {
        // The first append takes the capacity asked for; later overflows double, so a
        // sequence grown one token at a time is copied O(log T) times, not T times.
        const auto capacity = std::max({needed, m_key.defined() ? 2 * have : m_capacity});
        m_key = grown(m_key, k, m_length, capacity);
        m_value = grown(m_value, v, m_length, capacity);
    }
    m_key.narrow(2, m_length, added).copy_(k);
    m_value.narrow(2, m_length, added).copy_(v);
    m_length = needed;
    return {m_key.narrow(2, 0, m_length), m_value.narrow(2, 0, m_length)};
}

std::int64_t LayerKvCache::bytes() const
{
    return m_key.defined() ? 2 * std::int64_t(m_key.numel() * m_key.element_size()) : 0;
}

std::int64_t KvCache::bytes() const
{
    std::int64_t total = 0;
    for (const auto& layer : layers)
        total += layer.bytes();
    return total;
}

}  // namespace qs
