// The packed INT checkpoint layouts (gptq, awq, compressed-tensors pack-quantized) written from
// a fake-quantized checkpoint and its parameters file (quantize_model with write_quant_params
// and fp16_scales). Every quantized linear is rebuilt as an IntQuantizedLinear from W_q and its
// scales / zeros / g_idx, checked to dequantize to W_q bit for bit, padded along the MLP
// intermediate dimension when the layout needs it (padded rows: scale 1, codes = zero = 2^(b-1);
// padded columns: codes = the zero point of their group; both dequantize to exactly 0), packed
// by the codec and written shard by shard; every other tensor as fp16.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/export/checkpoint_export.h"
#include "core/export/int_quantized_linear.h"

namespace qs {

class SafetensorsReader;

// One tensor of the parameters file (kQuantParamsFile): float32 scales, int32 zeros / g_idx.
torch::Tensor read_quant_param(const SafetensorsReader& reader, const std::string& name);

// Multiples the input and output dimensions of a linear must have in the layout (packing words,
// groups, AWQ's 8 outputs per word).
struct LinearAlignment {
    std::int64_t in = 1;
    std::int64_t out = 1;
};
LinearAlignment int_layout_alignment(ExportFormat format, const QuantFormat& weights);
// The MLP intermediate size rounded up to both multiples.
std::int64_t padded_intermediate_size(std::int64_t size, const LinearAlignment& alignment);

// W_q [out, in] and its parameters (LinearQuantReport conventions) as an IntQuantizedLinear;
// throws QsError naming `name` when the codes do not reproduce W_q bit for bit or a scale is not
// an fp16 value.
IntQuantizedLinear int_linear_from_params(const torch::Tensor& weight, const torch::Tensor& scales,
                                          const torch::Tensor& zeros, const torch::Tensor& g_idx,
                                          const QuantFormat& format, const std::string& name);
// Zero-padded to [out, in] (>= the current sizes); see the header comment.
IntQuantizedLinear pad_int_linear(const IntQuantizedLinear& linear, std::int64_t out,
                                  std::int64_t in);

struct IntLayoutJob {
    ExportFormat format = ExportFormat::Gptq;
    QuantFormat weights;
    bool gptq_v2 = false;
    std::int64_t intermediate_size = 0;  // the model's
    std::int64_t padded_intermediate = 0;
};

// Writes the tensors (shards and index) of `job.format` into out_dir from fake_dir.
void write_int_layout(const std::string& fake_dir, const std::string& out_dir,
                      const IntLayoutJob& job);

// The "quantization_config" object of config.json for the layout; `ignore`: module names kept
// in full precision (compressed-tensors only).
nlohmann::json int_quantization_config(const IntLayoutJob& job, const Recipe& recipe,
                                       const std::vector<std::string>& ignore);

}  // namespace qs
