#include "core/model/layer_stream.h"

#include <string>

#include "core/util/error.h"

namespace qs {

LayerStream::LayerStream(const CausalLM& model, int first, int end, LayerDtype dtype)
    : m_model(model), m_index(first), m_end(end < 0 ? model.num_layers() : end), m_dtype(dtype)
{
    if (first < 0 || m_end > model.num_layers() || first > m_end)
        throw QsError("layer stream [" + std::to_string(first) + ", " + std::to_string(m_end) +
                      ") is outside the model's " + std::to_string(model.num_layers()) + " layers");
    prefetch(m_index);
}

LayerStream::~LayerStream()
{
    if (m_pending.valid()) m_pending.wait();
}

void LayerStream::prefetch(int layer)
{
    if (layer >= m_end) return;
    m_pending = std::async(std::launch::async, [&model = m_model, layer, dtype = m_dtype] {
        switch (dtype) {
            case LayerDtype::Float32:
                return model.load_layer(layer, torch::kFloat32);
            case LayerDtype::Stored:
                return model.load_layer_as_stored(layer);
            case LayerDtype::Compute:
                break;
        }
        return model.load_layer(layer);
    });
}

LayerWeights LayerStream::next()
{
    if (m_index >= m_end || !m_pending.valid())
        throw QsError("layer stream: no layer after " + std::to_string(m_end - 1));
    LayerWeights weights = m_pending.get();
    ++m_index;
    prefetch(m_index);
    return weights;
}

}  // namespace qs
