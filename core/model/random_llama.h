// Random-initialised Llama checkpoints of real shapes, written to disk as a Hugging Face folder
// (config.json + safetensors shards, one per decoder layer, + index), for studies and
// benchmarks of models this machine cannot download. Optionally with planted outliers, so the
// analysis views have something to show:
// - activation outliers: the RMSNorm gains (input_layernorm, post_attention_layernorm) of
//   `outlier_channels` hidden channels are raised, growing with depth up to `outlier_gain`
//   (the pattern LLM.int8 and SmoothQuant describe: a few hidden dimensions carry large values,
//   so q/k/v and gate/up receive outlier input channels);
// - weight outliers: `weight_outlier_columns` input columns of every down_proj are scaled by
//   `weight_outlier_scale` (heavy-tailed weights, high weight kurtosis).
// Weights are N(0, initializer_range) as transformers initialises Llama; norms are 1.
// The layers are generated and written one at a time, so a 7B-shaped model needs about one
// layer of memory.
#pragma once

#include <cstdint>
#include <string>

#include "core/io/dtype.h"

namespace qs {

class Feedback;

struct RandomLlamaSpec {
    std::int64_t hidden_size = 256;
    std::int64_t intermediate_size = 688;
    int num_layers = 6;
    int num_heads = 8;
    int num_kv_heads = 4;
    std::int64_t vocab_size = 512;
    std::int64_t max_position_embeddings = 2048;
    bool tie_word_embeddings = false;
    double initializer_range = 0.02;
    DType dtype = DType::F32;  // F32, F16 or BF16
    std::uint64_t seed = 0;
    int outlier_channels = 0;
    double outlier_gain = 20;
    int weight_outlier_columns = 0;
    double weight_outlier_scale = 8;
    // Copy tokenizer.json / tokenizer.model / tokenizer_config.json / special_tokens_map.json
    // from this Hugging Face folder (its vocabulary must fit vocab_size). Empty: no tokenizer.
    std::string tokenizer_from;
};

// "tiny" (the defaults above) or "llama-2-7b" (4096 / 11008 / 32 layers / 32 heads / 32000).
// Throws QsError for other names.
RandomLlamaSpec random_llama_preset(const std::string& name);

// Writes the model into `dir` (created; refused if it holds a config.json, unless overwrite).
// The folder is staged as "<dir>.partial" and renamed when complete.
void write_random_llama(const RandomLlamaSpec& spec, const std::string& dir, bool overwrite,
                        Feedback* feedback = nullptr);

}  // namespace qs
