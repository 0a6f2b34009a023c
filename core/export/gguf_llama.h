// A Llama-family CausalLM (llama, mistral) as a GGUF file llama.cpp runs: llama.cpp's tensor
// names (token_embd, blk.N.attn_q/k/v/output, ffn_gate/up/down, attn_norm, ffn_norm,
// output_norm, output), its llama.* hyper-parameters and the tokenizer.ggml.* vocabulary
// (gguf_vocab.h). Weights are read from the checkpoint one tensor at a time while the file is
// written, so exporting costs about one tensor of memory. q_proj/k_proj rows are permuted
// from Hugging Face's rotate-half RoPE layout to GGUF's interleaved one, as llama.cpp's
// convert_hf_to_gguf.py does. 1-D tensors (norms) stay F32, as llama.cpp keeps them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/export/gguf_format.h"
#include "core/export/gguf_writer.h"

namespace qs {
class CausalLM;
class Feedback;
}  // namespace qs

namespace qs::gguf {

struct GgufLlamaOptions {
    TensorType weight_type = TensorType::F32;  // 2-D weights: linears, token_embd, output
    // For a 2-D weight whose rows are not whole blocks of weight_type (stories260K's ffn_down
    // has rows of 172): llama.cpp's quantizer falls back the same way.
    TensorType fallback_type = TensorType::F16;
    // Optional, for weight_type Q8_0 / Q4_0: the scales [rows, cols / 32] (Hugging Face row
    // order) of a 2-D weight whose values already lie on that grid (gguf_grid_blocks.h), so its
    // blocks keep QuantScope's codes and scales; an undefined tensor (or no function) means
    // llama.cpp's own quantizer.
    std::function<torch::Tensor(const std::string& hf_name)> block_scales;
    // Optional: 2-D weights (Hugging Face names) to write as F16 instead of weight_type, e.g.
    // what a recipe leaves unquantized (embeddings, lm_head, full-precision layers).
    std::function<bool(const std::string& hf_name)> keep_f16;
};

struct GgufLlamaReport {
    std::vector<std::string> fallback_tensors;  // GGUF names written as fallback_type
};

// GGUF name of a Hugging Face Llama tensor ("model.layers.3.self_attn.q_proj.weight" ->
// "blk.3.attn_q.weight"); "" when llama.cpp has no such tensor.
std::string llama_gguf_tensor_name(const std::string& hf_name);

// q_proj / k_proj [n_head * head_dim, in] from Hugging Face's layout (each head's rows: the
// first halves of the rotary pairs, then the second halves) to GGUF's (pairs adjacent): row
// h*D + 2i + j of the result is row h*D + j*D/2 + i of w. n_head is the number of heads of
// this projection (num_kv_heads for k_proj).
torch::Tensor permute_qk_for_gguf(const torch::Tensor& w, std::int64_t n_head);

// The writer with every key and tensor; the tensors are read and converted when it writes, so
// `model` must outlive the write. Throws QsError for a model llama.cpp's "llama" architecture
// cannot express (OPT, biases, llama3 RoPE scaling) or a weight_type QuantScope cannot write.
// The model must be opened with its tokenizer (BOS/EOS settings) and have a tokenizer.json.
GgufWriter llama_gguf_writer(const CausalLM& model, const GgufLlamaOptions& options,
                             GgufLlamaReport* report = nullptr, Feedback* feedback = nullptr);

// llama_gguf_writer + an atomic write to path. A cancel through feedback throws
// CancelledError and leaves no file.
void write_llama_gguf(const CausalLM& model, const std::string& path,
                      const GgufLlamaOptions& options, Feedback* feedback = nullptr,
                      GgufLlamaReport* report = nullptr);

}  // namespace qs::gguf
