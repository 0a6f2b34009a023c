// A model's decoder layers in order, with the next layer loaded on a background thread while
// the caller computes with the current one: the copy out of the memory-mapped checkpoint (and,
// on a GPU, to device memory) overlaps the compute, and at most two layers are resident. The
// weights are exactly CausalLM::load_layer's.
#pragma once

#include <future>

#include "core/model/causal_lm.h"

namespace qs {

// The dtype a stream's layers arrive in: the model's compute dtype, float32, or as stored
// (CausalLM::load_layer_as_stored; quantize_model's master weights).
enum class LayerDtype { Compute, Float32, Stored };

class LayerStream {
public:
    // Layers [first, end) of `model` (end < 0: to the last layer); `model` must outlive the
    // stream. The first layer starts loading at once.
    explicit LayerStream(const CausalLM& model, int first = 0, int end = -1,
                         LayerDtype dtype = LayerDtype::Compute);
    ~LayerStream();  // waits for a prefetch still running
    LayerStream(const LayerStream&) = delete;
    LayerStream& operator=(const LayerStream&) = delete;

    // The weights of layer index() (then index() moves on); the load of the layer after it
    // starts before this returns. Rethrows a load error; throws QsError past the end.
    LayerWeights next();
    int index() const { return m_index; }

private:
    void prefetch(int layer);

    const CausalLM& m_model;
    int m_index;
    int m_end;
    LayerDtype m_dtype;
    std::future<LayerWeights> m_pending;
};

}  // namespace qs
