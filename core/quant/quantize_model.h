// Layer-by-layer post-training quantization of a whole model into a new Hugging Face checkpoint
// directory holding the dequantized ("fake-quantized") weights:
//   1. calibration windows -> embeddings (the inputs of layer 0), kept for all samples;
//   2. for each decoder layer: load it from the memory map, quantize it with the recipe
//      (quantize_layer), compute its outputs on the calibration inputs (the inputs of the next
//      layer: from the quantized layer when GPTQ runs, as GPTQ does; from the full-precision
//      layer otherwise, as AWQ and SmoothQuant calibrate), write it as one safetensors shard,
//      release it;
//   3. copy embeddings, final norm and head, tokenizer files and config.json (with a
//      "quantization_config" naming the recipe and the activation format), write the index.
// Memory: two layers (the current one and the next, prefetched) as the checkpoint stores them
// (float32 only for an observer), plus the calibration activations (samples x seqlen x hidden
// values; twice that when GPTQ's next inputs cannot overwrite them). Calibration runs in the
// model's compute dtype (the activations handed to GPTQ, AWQ and SmoothQuant are converted to
// float32); weights are quantized in float32 and written as float32.
// The output is written to "<out>.partial-XXXXXX" and renamed at the end: a failure or cancel
// leaves no directory under the target name, and an existing target is only replaced with force.
#pragma once

#include <string>
#include <vector>

#include "core/model/causal_lm.h"
#include "core/quant/layer_quantizer.h"
#include "core/quant/recipe.h"

namespace qs {

class Feedback;
class CalibrationCache;
class QuantizeObserver;

struct QuantizeOptions {
    bool force = false;                    // replace an existing output directory
    CalibrationCache* cache = nullptr;     // shared calibration of a sweep (used when it serves
                                           // the recipe's calibration settings)
    QuantizeObserver* observer = nullptr;  // statistics and errors (core/analysis)
    // INT weight formats: also write every quantized linear's parameters to
    // kQuantParamsFile ("<weight name>.scales" float32 [out, groups], ".zeros" int32
    // [out, groups], ".g_idx" int32 [in]; LinearQuantReport) for the checkpoint exporters.
    // The checkpoint's weights are unchanged by this option.
    bool write_quant_params = false;
    // Quantize with fp16-rounded INT scales (int_quantizer.h Fp16ScaleScope), as the packed
    // layouts store them: the dequantized weights then differ slightly from the default
    // float32-scale ones, and a packed export reproduces them bit for bit.
    bool fp16_scales = false;
    // Keep the quantized linears' float32 weights on the host and only their compute-dtype
    // copies in the layer (QuantizedWeightOffload). Automatic on a GPU with a half-precision
    // compute dtype and no observer; this forces it on the CPU too (where it saves nothing; the
    // tests use it to show that the checkpoint is the same).
    bool force_offload = false;
};

// The parameters file of QuantizeOptions::write_quant_params (not part of the checkpoint index).
constexpr const char* kQuantParamsFile = "quantization_params.safetensors";

struct QuantizeResult {
    std::string output_dir;
    std::vector<LayerQuantReport> layers;
    std::vector<std::string> warnings;
    double seconds = 0;
    int offloaded_weights =
        0;  // quantized linears kept on the host (QuantizeOptions::force_offload)
};

QuantizeResult quantize_model(const CausalLM& model, const Recipe& recipe,
                              const std::string& output_dir, const QuantizeOptions& options,
                              Feedback* feedback = nullptr);
inline QuantizeResult quantize_model(const CausalLM& model, const Recipe& recipe,
                                     const std::string& output_dir, bool force = false,
                                     Feedback* feedback = nullptr)
{
    QuantizeOptions options;
    options.force = force;
    return quantize_model(model, recipe, output_dir, options, feedback);
}

// The "quantization_config" QuantScope writes into config.json of a fake-quantized checkpoint.
constexpr const char* kFakeQuantMethod = "quantscope-fake";

}  // namespace qs
