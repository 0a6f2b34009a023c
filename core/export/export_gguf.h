// `quantscope-cli export --format gguf`: a Llama-family model as one GGUF file for llama.cpp
// (core/export/gguf_llama.h), in a folder written atomically (staged, then renamed).
//
// Without a recipe the checkpoint's float weights are converted with llama.cpp's own rule for
// the chosen type (F32, F16, Q8_0, Q4_0, MXFP4), as its convert/quantize tools would.
// With a recipe the model is first quantized by QuantScope and its dequantized weights are
// encoded; the file is kept only if every quantized linear reads back bit for bit (exactly the
// values in memory; a zero may change sign). Q8_0 / Q4_0 take QuantScope's own codes and fp16
// scales (gguf_grid_blocks.h): symmetric INT recipes of up to 8 / 4 bits with one scale per
// 32 weights (int8-g32-sym, int4-g128-sym, per channel, ...), quantized with fp16 scales as
// the packed checkpoint formats are; rows that are not whole blocks are written as F32.
// Whatever the recipe leaves unquantized (embeddings, lm_head, full-precision layers) is
// written as F16, as the analysis sizes it, not with llama.cpp's rule for the type.
// MXFP4 takes mxfp4-32 recipes (llama.cpp's rule and ours agree). A recipe the type cannot
// hold is refused before anything is written (gguf_recipe_refusal), naming what fits.
#pragma once

#include <string>
#include <vector>

#include "core/export/gguf_format.h"

namespace qs {

class CausalLM;
class Feedback;
struct Recipe;

struct GgufExportResult {
    std::string output_dir;
    std::string gguf_path;
    std::vector<std::string> fallback_tensors;  // rows not whole blocks, written as fallback_type
    gguf::TensorType fallback_type = gguf::TensorType::F16;  // F32 for q8_0 / q4_0 recipes
    int exact_linears = 0;  // with a recipe: linears checked bit for bit
};

// Why GGUF `type` cannot hold `recipe` ("" when it can), with the recipes that fit.
std::string gguf_recipe_refusal(const Recipe& recipe, gguf::TensorType type);

// "f32", "f16", "q8_0", "q4_0", "mxfp4"; throws QsError listing them otherwise.
gguf::TensorType parse_gguf_export_type(const std::string& name);

// recipe may be null (float weights). Throws QsError (refusals name the linear and the
// recipes that fit), CancelledError on cancel; nothing is left under out_dir on failure.
GgufExportResult export_gguf(const CausalLM& model, const Recipe* recipe, gguf::TensorType type,
                             const std::string& out_dir, bool force, Feedback* feedback = nullptr);

}  // namespace qs
