// GGUF (llama.cpp) -> Hugging Face float checkpoint, for import_checkpoint. Llama-architecture
// files ("general.architecture" llama or qwen2): tensors are dequantized with gguf_blocks.h (F32,
// F16, Q8_0, Q4_0, MXFP4, Q2_K..Q6_K), renamed back to Hugging Face names (token_embd ->
// model.embed_tokens, blk.N.attn_q -> model.layers.N.self_attn.q_proj, ...), the q/k row
// permutation convert_hf_to_gguf.py's LlamaModel.permute applies is undone, and config.json is
// built from the llama.* metadata ("llama" files also cover Mistral; "qwen2" files are read
// without the permutation, which convert_hf_to_gguf.py applies to Llama only). The tokenizer
// is rebuilt from tokenizer.ggml.* where import_gguf_tokenizer.h can (SentencePiece-style
// vocabularies); otherwise none is written and ImportSummary::has_tokenizer is false.
#pragma once

#include <string>

#include "core/export/import_checkpoint.h"

namespace qs {

// Writes config.json and the safetensors into out_dir (an existing, empty folder).
ImportSummary import_gguf(const std::string& path, const std::string& out_dir, DType dtype,
                          Feedback* feedback);

}  // namespace qs
