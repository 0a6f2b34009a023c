// The AutoGPTQ v1 ("gptq") checkpoint layout of one linear, as AutoGPTQ's QuantLinear.pack
// (auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py) writes it and vLLM, transformers and
// GPTQModel read it:
//   qweight int32 [in * bits / 32, out]: codes packed down the INPUT dimension (bit_packing.h's
//           stream order: 32/bits codes per word lowest bits first; 3 bits: 32 codes in 3 words);
//   qzeros  int32 [groups, out * bits / 32]: zero - 1 packed along the OUTPUT dimension (the v1
//           "minus one" convention; loaders add 1 back), so symmetric 4-bit zeros 8 read
//           0x77777777;
//   scales  fp16  [groups, out];  g_idx int32 [in] (act-order: the group of each input column).
// Bits 2, 3, 4, 8. A zero point of 0 has no v1 encoding (zero - 1 = -1 would overflow into the
// neighbouring fields, as AutoGPTQ's own packer silently does, and GPTQModel's v1 -> v2
// conversion adds 1 per field with carries), so v1 packing refuses it. GPTQModel's
// checkpoint_format "gptq_v2" stores zeros without the offset and holds every zero.
#pragma once

#include <cstdint>
#include <vector>

#include "core/export/int_quantized_linear.h"

namespace qs {

// How qzeros fields hold a zero point: V1 (checkpoint_format "gptq", every loader) stores
// zero - 1, V2 ("gptq_v2", GPTQModel only) stores the zero itself.
enum class GptqZeroFormat { V1, V2 };

struct GptqPacked {
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    int bits = 4;
    std::int64_t groups = 0;
    GptqZeroFormat zero_format = GptqZeroFormat::V1;
    std::vector<std::int32_t> qweight;  // [in * bits / 32, out]
    std::vector<std::int32_t> qzeros;   // [groups, out * bits / 32]
    std::vector<std::uint16_t> scales;  // [groups, out] fp16 bit patterns
    std::vector<std::int32_t> g_idx;    // [in]

    std::vector<std::int64_t> qweight_shape() const;
    std::vector<std::int64_t> qzeros_shape() const;
    std::vector<std::int64_t> scales_shape() const;
    std::vector<std::int64_t> g_idx_shape() const;
};

// Throws QsError for bits other than 2/3/4/8, in or out not a multiple of 32 / gcd(32, bits)
// words (in * bits and out * bits must be multiples of 32), codes or zeros out of range, a
// zero point of 0 under V1, or inconsistent sizes (IntQuantizedLinear::validate).
GptqPacked gptq_pack(const IntQuantizedLinear& linear,
                     GptqZeroFormat zero_format = GptqZeroFormat::V1);

// Inverse of gptq_pack. V1 zero points are read as loaders read them, (field + 1): a field of
// 2^bits - 1 (an overflowed zero of 0 in files from other tools) reads as 2^bits.
// group_size is not stored in the tensors (config.json carries it); g_idx is returned as stored.
IntQuantizedLinear gptq_unpack(const GptqPacked& packed, std::int64_t group_size);

// Weight [out, in] as a loader computes it: scale[g_idx[c]] * (q - zero), in float32.
std::vector<float> gptq_dequantize(const GptqPacked& packed);

}  // namespace qs
