// Quantized checkpoints other tools load (issue 6). export_checkpoint runs quantize_model into a
// staging folder beside the target ("<out>.partial-XXXXXX"), with fp16-rounded INT scales and
// the parameters file (QuantizeOptions::write_quant_params / fp16_scales), then writes the
// target layout from the dequantized weights and those parameters, checks that the packed
// tensors reproduce the dequantized weights bit for bit, and renames the folder onto the target.
// Formats:
//   fake               the Hugging Face checkpoint quantize_model writes (dequantized float32
//                      weights, default float32 scales): any loader.
//   gptq               AutoGPTQ v1 (checkpoint_format "gptq"; with ExportOptions::gptq_v2
//                      GPTQModel's "gptq_v2"): per linear qweight/qzeros/scales/g_idx
//                      (gptq_packing.h), other tensors fp16, quantization_config in config.json
//                      and quantize_config.json.
//   awq                AutoAWQ GEMM (awq_packing.h): qweight/qzeros/scales, 4 bits, groups.
//   compressed-tensors llm-compressor "pack-quantized" (compressed_tensors_packing.h):
//                      weight_packed/weight_scale/weight_zero_point/weight_shape(/weight_g_idx).
//   mx                 QuantScope's native MX container (export_mx.h, docs/mx-checkpoint.md).
// The packed INT layouts need every linear dimension aligned to the packing word and the group
// size; the MLP intermediate dimension is zero-padded when it is not (gate/up rows, down
// columns, config intermediate_size; a function-preserving change: padded weights are exactly
// zero), hidden-size dimensions must already fit. A recipe a format cannot express is refused
// before anything is written, naming the formats that fit; an existing target is kept unless
// force; a cancel (Feedback) or an exception leaves nothing under the target name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/causal_lm.h"
#include "core/quant/quantize_model.h"
#include "core/quant/recipe.h"

namespace qs {

class Feedback;
class CalibrationCache;

enum class ExportFormat { Fake, Gptq, Awq, CompressedTensors, Mx };

std::string export_format_name(ExportFormat format);  // "fake", "gptq", ...
// Throws QsError listing the accepted names.
ExportFormat parse_export_format(const std::string& name);
std::vector<ExportFormat> all_export_formats();

struct ExportOptions {
    bool force = false;    // replace an existing target
    bool gptq_v2 = false;  // gptq: checkpoint_format "gptq_v2" (holds zero points of 0)
    // fake: quantize INT weights with fp16 scales, i.e. the very weights the packed layouts
    // (gptq, awq, compressed-tensors) of the same recipe store (they always use fp16 scales).
    bool fp16_scales = false;
    CalibrationCache* cache = nullptr;
};

struct ExportResult {
    std::string output_dir;
    QuantizeResult quantize;
    std::int64_t intermediate_size = 0;  // as written to config.json (padded when needed)
};

// Why `format` cannot hold `recipe` for this model ("" when it can). Data-dependent refusals
// (a GPTQ v1 zero point of 0) only show after quantization, still before the target is touched.
std::string export_refusal(const CausalLM& model, const Recipe& recipe, ExportFormat format,
                           const ExportOptions& options = {});
// The formats whose export_refusal is empty.
std::vector<ExportFormat> export_formats_for(const CausalLM& model, const Recipe& recipe,
                                             const ExportOptions& options = {});

// The decoder linears ("model.layers.3.self_attn.q_proj") of the layers `recipe` quantizes
// (quantized = true), or of those it leaves in full precision (false).
std::vector<std::string> recipe_linears(const CausalLM& model, const Recipe& recipe,
                                        bool quantized);

ExportResult export_checkpoint(const CausalLM& model, const Recipe& recipe, ExportFormat format,
                               const std::string& out_dir, const ExportOptions& options = {},
                               Feedback* feedback = nullptr);

}  // namespace qs
