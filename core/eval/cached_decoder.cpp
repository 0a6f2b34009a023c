#include "core/eval/cached_decoder.h"

#include <algorithm>

#include "core/model/layer_stream.h"
#include "core/util/error.h"

namespace qs {
namespace {

bool has_static_input_scales(const LayerWeights& layer)
{
    const std::string suffix = ".input_scale";
    for (const auto& [name, tensor] : layer.all())
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return true;
    return false;
}

// Keys and values of every layer for batch x length tokens in the compute dtype.
std::int64_t cache_bytes(const CausalLM& model, std::int64_t batch, std::int64_t length)
{
    const auto& c = model.config();
    const auto element = torch::elementSize(model.compute_dtype());
    return std::int64_t(model.num_layers()) * 2 * batch * length * c.num_kv_heads * c.head_dim *
           std::int64_t(element);
}

}  // namespace

bool activations_are_per_token(const CausalLM& model, const LayerWeights& layer)
{
    const QuantFormat& format = model.activation_format();
    const bool dynamic_per_tensor =
        (format.kind == FormatKind::Int || format.kind == FormatKind::Fp8) &&
        format.granularity == Granularity::Tensor;
    return !dynamic_per_tensor || has_static_input_scales(layer);
}

CachedDecoder::CachedDecoder(const CausalLM& model, std::int64_t batch, std::int64_t max_length,
                             const DecoderOptions& options)
    : m_model(model), m_batch(batch), m_head(model.load_head())
{
    if (batch < 1) throw QsError("decoder: batch must be at least 1");
    LayerWeights first = model.load_layer(0);
    if (first.bytes() * model.num_layers() <= options.resident_layers_bytes) {
        m_layers.reserve(std::size_t(model.num_layers()));
        m_layers.push_back(std::move(first));
        for (int i = 1; i < model.num_layers(); ++i)
            m_layers.push_back(model.load_layer(i));
    }
    const bool cache_fits = cache_bytes(model, batch, max_length) <= options.cache_budget_bytes;
    const LayerWeights& probe = m_layers.empty() ? first : m_layers.front();
    if (options.kv_cache && cache_fits && activations_are_per_token(model, probe))
        m_cache.emplace(model.num_layers(), std::max<std::int64_t>(max_length, 1));
}

torch::Tensor CachedDecoder::run_layers(torch::Tensor hidden, const LayerContext& context)
{
    const auto& config = m_model.config();
    auto cache_of = [&](int i) { return m_cache ? &m_cache->layers[std::size_t(i)] : nullptr; };
    if (!m_layers.empty()) {
        for (int i = 0; i < m_model.num_layers(); ++i)
            hidden = decoder_layer_forward(config, m_layers[std::size_t(i)], hidden, context,
                                           cache_of(i));
        return hidden;
    }
    LayerStream stream(m_model);  // the next layer loads while this one runs
    for (int i = 0; i < m_model.num_layers(); ++i)
        hidden = decoder_layer_forward(config, stream.next(), hidden, context, cache_of(i));
    return hidden;
}

torch::Tensor CachedDecoder::step(const torch::Tensor& ids)
{
    torch::NoGradGuard no_grad;
    if (ids.dim() != 2 || ids.size(0) != m_batch || ids.size(1) < 1)
        throw QsError("decoder: a step takes [" + std::to_string(m_batch) +
                      ", tokens] ids with at least one token");
    const auto& device = m_model.device();
    auto fed = ids.to(device, torch::kLong);
    torch::Tensor hidden;
    if (m_cache) {
        // Only the new tokens, at the positions after the cached ones.
        const auto first = m_cache->length();
        hidden = run_layers(m_model.embed(fed, first),
                            make_layer_context(m_model.config(), fed.size(1), device, first));
    } else {
        // The whole sequence again: exactly a forward pass over it.
        m_ids = m_ids.defined() ? torch::cat({m_ids, fed}, 1) : fed;
        hidden = run_layers(m_model.embed(m_ids),
                            make_layer_context(m_model.config(), m_ids.size(1), device));
    }
    m_length += fed.size(1);
    return m_model.head(hidden.slice(1, -1), m_head).squeeze(1);
}

}  // namespace qs
