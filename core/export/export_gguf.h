// `quantscope-cli export --format gguf`: a Llama-family model as one GGUF file for llama.cpp
// (core/export/gguf_llama.h), in a folder written atomically (staged, then renamed).
//
// Without a recipe the checkpoint's float weights are converted with llama.cpp's own rule for
// the chosen type (F32, F16, Q8_0, Q4_0, MXFP4), as its convert/quantize tools would.
// With a recipe the model is first quantized by QuantScope and its dequantized weights are
// encoded; the file is kept only if every quantized linear reads back bit for bit (exactly
// the values in memory; a zero may change sign). Otherwise the export is refused, naming the first
// linear that differs and the recipes that fit the type: llama.cpp's Q8_0 (d = absmax/127) and Q4_0
// (d = signed max/-8) scale rules are not any QuantScope INT recipe's, so only MXFP4 has a
// matching recipe (mxfp4 elements in blocks of 32).
#pragma once

#include <string>

#include "core/export/gguf_format.h"

namespace qs {

class CausalLM;
class Feedback;
struct Recipe;

struct GgufExportResult {
    std::string output_dir;
    std::string gguf_path;
    std::vector<std::string> fallback_tensors;  // rows not whole blocks: written as F16
    int exact_linears = 0;                      // with a recipe: linears checked bit for bit
};

// "f32", "f16", "q8_0", "q4_0", "mxfp4"; throws QsError listing them otherwise.
gguf::TensorType parse_gguf_export_type(const std::string& name);

// recipe may be null (float weights). Throws QsError (refusals name the linear and the
// recipes that fit), CancelledError on cancel; nothing is left under out_dir on failure.
GgufExportResult export_gguf(const CausalLM& model, const Recipe* recipe, gguf::TensorType type,
                             const std::string& out_dir, bool force, Feedback* feedback = nullptr);

}  // namespace qs
