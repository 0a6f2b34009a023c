// compressed-tensors "mxfp4-pack-quantized" (compressed_tensors_packing.h Mxfp4Packed) written
// from a fake-quantized checkpoint of an mxfp4-32 recipe: every quantized linear's dequantized
// weight is re-encoded (MX quantize-dequantize is idempotent), packed, and checked to decode to
// the same weight bit for bit; the MLP intermediate dimension is zero-padded to a multiple of 32
// when needed (all-zero blocks, exactly 0), every other tensor is written as fp16.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/export/compressed_tensors_packing.h"

namespace qs {

// W_q [out, in] float32 on the MXFP4 (block 32) grid, in a multiple of 32; QsError names `name`.
Mxfp4Packed ct_mxfp4_pack_linear(const torch::Tensor& weight, const std::string& name);

void write_ct_mxfp4_layout(const std::string& fake_dir, const std::string& out_dir,
                           const std::vector<std::string>& linear_weights,
                           std::int64_t intermediate_size, std::int64_t padded_intermediate);

// quantization_config of the layout; `ignore`: modules kept in full precision.
nlohmann::json ct_mxfp4_quantization_config(const std::vector<std::string>& ignore);

}  // namespace qs
