// Quantizes one decoder layer with a recipe, the way the layer-wise PTQ references do it: the
// layer's inputs on the calibration windows are given; statistics (max/mean |x|, Hessians) are
// gathered by running the layer with observers; scaling methods (SmoothQuant, AWQ) are folded
// into the weights; weights are quantized with GPTQ (true-sequential stages for Llama: [q,k,v],
// [o], [gate, up], [down], re-capturing inputs after each stage; one stage for OPT as the
// reference) or RTN; every linear's input is fake-quantized when the recipe has an activation
// format. Weights stay float32 (dequantized values on the format's grid).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/model/decoder_layer.h"
#include "core/quant/recipe.h"

namespace qs {

class Feedback;
class QuantizeObserver;

// Hessians of the first GPTQ stage's linears computed elsewhere on the same inputs and the same
// (untransformed) weights: the shared calibration cache of a sweep. Used only when no scaling
// method runs before GPTQ in the recipe.
using CachedHessians = std::map<std::string, torch::Tensor>;

// Final quantized weights kept off the compute device (quantize_model on a GPU with a
// half-precision compute dtype): each quantized linear's float32 weight goes to `host` (CPU,
// by weight name inside the layer) as soon as it is final, and the layer keeps it in
// `layer_dtype` only, the dtype the forward casts it to anyway. The layer being quantized then
// holds half-precision linears instead of float32 ones (0.3 GiB less at a 7B down_proj).
struct QuantizedWeightOffload {
    torch::ScalarType layer_dtype = torch::kBFloat16;
    std::map<std::string, torch::Tensor> host;
};

struct LinearQuantReport {
    std::string module;
    std::string method;  // "gptq" or "rtn"
    double weight_relative_mse =
        0;  // ||W_q - W||^2 / ||W||^2 against the (scaled) weights quantized
    double gptq_total_error = 0;
    torch::Tensor gptq_column_error;  // [in], original column order (GPTQ only)
    torch::Tensor gptq_perm;          // act-order permutation (GPTQ only, when enabled)
    torch::Tensor gptq_g_idx;         // group of each column (GPTQ only)
    torch::Tensor hessian_diag;       // [in] diag(H) (GPTQ only)
    // INT weight formats: the parameters that produced the dequantized weight W_q (float32 on
    // the CPU): scales and zero points [out, groups] and the group of each input column [in]
    // (int32), so that q = round(W_q / scale + zero) in [0, 2^bits) and W_q = scale * (q - zero)
    // bit for bit (int_quantizer.h IntGroupQuantization). Undefined for other formats.
    torch::Tensor scales;
    torch::Tensor zeros;
    torch::Tensor g_idx;
};

struct LayerQuantReport {
    int layer = 0;
    std::vector<LinearQuantReport> linears;
    std::vector<std::string> notes;
};

// GPTQ stages (true-sequential for the Llama family when enabled, one stage otherwise).
std::vector<std::vector<std::string>> gptq_stages(const ModelConfig& config, bool true_sequential);

// Sequences per batch when a layer runs over calibration inputs [n, T, hidden]: 8192 tokens, and
// for wide layers (`widest`: the widest per-token activation, e.g. intermediate_size) at most
// 2^25 elements per [tokens, widest] temporary (128 MiB in float32; the MLP holds four), so that
// the batch's temporaries stay below the layer's own weights. At least one sequence.
std::int64_t layer_batch_size(const torch::Tensor& inputs, std::int64_t widest = 0);

// GPTQ Hessians of the linears `modules` (e.g. one stage) from running `weights` over `inputs`.
std::map<std::string, torch::Tensor> linear_hessians(const ModelConfig& config,
                                                     LayerWeights& weights,
                                                     const torch::Tensor& inputs,
                                                     const LayerContext& context,
                                                     const std::vector<std::string>& modules);

// Runs `weights` over `inputs` [n, T, hidden] in batches; `observer` (may be empty) sees every
// linear's input. Returns the outputs [n, T, hidden].
torch::Tensor run_layer(const ModelConfig& config, LayerWeights& weights,
                        const torch::Tensor& inputs, const LayerContext& context,
                        const LinearObserver& observer = {});
// The same, overwriting `inputs` with the outputs batch by batch (each batch's outputs depend
// only on its own inputs), so that the next layer's calibration inputs need no second
// samples x T x hidden tensor. `inputs` must be contiguous and not shared with anyone.
void run_layer_in_place(const ModelConfig& config, LayerWeights& weights, torch::Tensor& inputs,
                        const LayerContext& context);

// Applies the recipe to one layer in place and installs the activation fake-quantization.
// `offload` (may be null) receives the float32 quantized weights, unless a scaling method
// follows quantization in the recipe (it rescales them and RTN re-quantizes: float32 work on
// the layer's own weights).
LayerQuantReport quantize_layer(const ModelConfig& config, const Recipe& recipe, int layer_index,
                                LayerWeights& weights, const torch::Tensor& inputs,
                                const LayerContext& context, Feedback* feedback = nullptr,
                                QuantizeObserver* observer = nullptr,
                                const CachedHessians* cached_hessians = nullptr,
                                QuantizedWeightOffload* offload = nullptr);

// Installs fake quantization of every linear's input (FormatKind::None removes it); a linear
// with a "<module>.input_scale" tensor uses that static scale, the others dynamic ranges.
void install_activation_quantization(LayerWeights& weights, const QuantFormat& format);

// Static per-tensor activation scales (MinMax over the calibration inputs, step = absmax / qmax)
// stored in the layer as "<module>.input_scale" [1].
void calibrate_static_activation_scales(const ModelConfig& config, const QuantFormat& format,
                                        LayerWeights& weights, const torch::Tensor& inputs,
                                        const LayerContext& context);

}  // namespace qs
