// QuantScope's native MX checkpoint (docs/mx-checkpoint.md): per quantized linear
//   "<module>.weight_mx"       U8  [out, ceil(in * d / 8)]  element codes, each row a
//                              little-endian bit stream (element k at bits [k*d, (k+1)*d)),
//                              the last byte zero-padded; d = element bits (8, 6, 4, 3, 2);
//   "<module>.weight_exponent" U8  [out, ceil(in / block)]  E8M0 shared exponents: byte =
//                              shared exponent + 127, 255 = NaN block (microxcaling's NaN);
//   "<module>.weight_shape"    I64 [2]                      {out, in};
// every other tensor as the fake-quantized checkpoint stores it, config.json with
// quantization_config {quant_method "quantscope-mx", format_version 1, weights, element,
// element_bits, block_size, activations, recipe}. Element codes:
//   MXINTd: sign-magnitude, bit d-1 the sign, bits 0..d-2 the magnitude k, value k * 2^-(d-2)
//           (the sign bit keeps -0, so the dequantized weights match bit for bit);
//   MXFP (E2M1, E3M2, E2M3, E4M3, E5M2): sign, exponent (bias 2^(e-1) - 1), mantissa, OCP
//           layout, subnormals at exponent field 0 (E4M3/E5M2 max 448 / 57344).
// The weight is element * 2^shared_exponent in float32, exactly as mx_quantize_dequantize.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/quant/quant_format.h"

namespace qs {

// Code of an element value of the format's grid (already divided by the block scale); throws
// QsError for a value off the grid.
std::uint32_t mx_element_code(MxElement element, float value);
float mx_element_value(MxElement element, std::uint32_t code);

struct MxPackedLinear {
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    std::vector<std::uint8_t> elements;   // [out, ceil(in * d / 8)]
    std::vector<std::uint8_t> exponents;  // [out, ceil(in / block)]
};

// Packs a dequantized MX weight W_q [out, in] (float32, on the format's grid): re-encodes it
// with mx_encode and checks that the codes decode to W_q bit for bit (QsError naming `name`).
MxPackedLinear mx_pack_linear(const torch::Tensor& weight, const QuantFormat& format,
                              const std::string& name);
// float32 [out, in] from the packed form.
torch::Tensor mx_unpack_linear(const MxPackedLinear& packed, const QuantFormat& format);

// Writes the native container from a fake-quantized checkpoint `fake_dir` (quantize_model's
// output of an MX recipe) into `out_dir` (existing, empty).
void write_mx_checkpoint(const std::string& fake_dir, const std::string& out_dir,
                         const QuantFormat& weights, const std::vector<std::string>& linear_names);

// Every tensor of a native MX checkpoint as float32, the MX linears dequantized to
// "<module>.weight" (bit for bit the fake-quantized weights). Throws QsError "<dir>: ...".
std::map<std::string, torch::Tensor> read_mx_checkpoint(const std::string& dir);

}  // namespace qs
