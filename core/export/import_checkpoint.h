// Import: turns a checkpoint another tool quantized into a plain Hugging Face float checkpoint
// that CausalLM opens, so every analysis (stats, perplexity, the GUI) runs on what that tool
// produced. Sources:
//  - a folder whose config.json quantization_config.quant_method is "gptq" (AutoGPTQ /
//    GPTQModel, checkpoint_format "gptq" or "gptq_v2", act-order via g_idx; a folder with only
//    quantize_config.json is read as GPTQ too), "awq" (AutoAWQ, version "gemm") or
//    "compressed-tensors" (llm-compressor, format "pack-quantized");
//  - a .gguf file (llama.cpp; F32/F16/Q8_0/Q4_0/MXFP4 and the K-quants), see import_gguf.h.
// Packed linears are dequantized exactly as the reference loaders do (w = scale * (q - zero),
// GPTQ v1 zeros read as field + 1; import_quantized_linear.h); every other tensor is converted
// to the output dtype. The output folder holds config.json without quantization_config but
// with "quantscope_imported_from" (source path, format, bits, group size), the safetensors and
// the tokenizer files. It is written atomically (PartialDirectory): an existing folder is kept
// unless force, and a failure or cancel leaves nothing under its name.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/io/dtype.h"

namespace qs {

class Feedback;

struct ImportSummary {
    std::string source_format;  // "gptq", "gptq_v2", "awq", "compressed-tensors", "gguf"
    std::string out_dir;
    std::size_t dequantized_tensors = 0;  // packed linears (or quantized GGUF tensors)
    std::size_t tensors = 0;              // tensors written
    bool has_tokenizer = false;           // false: open with CausalLM::open(dir, device, false)
    std::vector<std::string> notes;       // one line each, for the CLI and the GUI log
};

// "gptq", "awq", "compressed-tensors" or "gguf"; throws QsError naming the file for anything
// else (a missing config.json, no quantization_config, an unknown quant_method).
std::string detect_import_format(const std::string& in);

// dtype: DType::F32 (default, every dequantized value exact) or DType::F16. Throws QsError
// "<file>: <problem>" (unknown quant_method, missing tensors, shape mismatch, out exists
// without force) and CancelledError from feedback.
ImportSummary import_checkpoint(const std::string& in, const std::string& out_dir, bool force,
                                Feedback* feedback, DType dtype = DType::F32);

}  // namespace qs
