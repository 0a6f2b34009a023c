// compressed-tensors checkpoint layouts (llm-compressor writes them, vLLM reads them), from
// src/compressed_tensors/compressors/quantized_compressors/{pack_quantized,fp4_quantized}.py.
//
// "pack-quantized" (INT weight-only, 4 or 8 bits): compressed-tensors quantizes to SIGNED codes
// s in [-2^(b-1), 2^(b-1)) with signed zero points, and pack_to_int32 stores s + 2^(b-1). With
// our unsigned codes q = s + 2^(b-1) and zeros z = zs + 2^(b-1), the stored fields are q and z
// unchanged and scale * (s - zs) = scale * (q - z). Symmetric schemes have no zero point tensor
// (zs = 0), so they need z = 2^(b-1) everywhere (the GPTQ symmetric convention).
//   weight_packed     int32 [out, ceil(in * b / 32)]: packed along the INPUT dimension, lowest
//                     bits first, the last word zero-padded (pack_to_int32, packed_dim 1);
//   weight_scale      [out, groups] (the model's float dtype; here fp16 bit patterns);
//   weight_zero_point int32 [ceil(out * b / 32), groups], asymmetric only: packed along the
//                     OUTPUT dimension (pack_to_int32 packed_dim 0);
//   weight_g_idx      int32 [in], only under act-order (actorder "group");
//   weight_shape      [2] = {out, in} (torch.tensor(weight.shape): int64).
//
// "mxfp4-pack-quantized": E2M1 codes (bit 3 sign, bits 0-2 the magnitude index into
// 0, 0.5, 1, 1.5, 2, 3, 4, 6) two per byte, element 2k in the low nibble (pack_fp4_to_uint8):
//   weight_packed uint8 [out, in / 2];  weight_scale uint8 [out, in / 32].
// The scale byte is 127 + floor(log2(scale)) - 2 (MXFP4PackedCompressor.compress_scale), i.e.
// the block exponent biased by 125, not E8M0's 127: vLLM's CompressedTensorsW4A16Mxfp4 adds 2
// back before its kernels. We write what that loader decodes: byte = shared_exp + 125.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/export/int_quantized_linear.h"

namespace qs {

struct CompressedTensorsPacked {
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    int bits = 4;
    std::int64_t groups = 0;
    bool symmetric = false;
    std::vector<std::int32_t> weight_packed;      // [out, ceil(in * bits / 32)]
    std::vector<std::uint16_t> weight_scale;      // [out, groups] fp16 bit patterns
    std::vector<std::int32_t> weight_zero_point;  // [ceil(out * bits / 32), groups]; empty if sym
    std::vector<std::int32_t> weight_g_idx;       // [in] under act-order, else empty
    std::array<std::int64_t, 2> weight_shape{};   // {out, in}

    std::vector<std::int64_t> weight_packed_shape() const;
    std::vector<std::int64_t> weight_scale_shape() const;
    std::vector<std::int64_t> weight_zero_point_shape() const;
};

// symmetric: no zero point tensor; every zero must be 2^(bits-1). weight_g_idx is written only
// when the groups are not contiguous (act-order). Throws QsError for bits other than 4/8, a
// symmetric layer with another zero, codes or zeros out of range, inconsistent sizes.
CompressedTensorsPacked compressed_tensors_pack(const IntQuantizedLinear& linear, bool symmetric);
// Inverse; group_size comes from the scheme in config.json (not in the tensors).
IntQuantizedLinear compressed_tensors_unpack(const CompressedTensorsPacked& packed,
                                             std::int64_t group_size);

// Exponent bias of the mxfp4-pack-quantized scale byte (see above).
inline constexpr int kCompressedTensorsMxfp4ScaleBias = 125;
inline constexpr std::int64_t kMxfp4BlockSize = 32;

struct Mxfp4Packed {
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    std::vector<std::uint8_t> weight_packed;  // [out, in / 2]
    std::vector<std::uint8_t> weight_scale;   // [out, in / 32]

    std::vector<std::int64_t> weight_packed_shape() const;
    std::vector<std::int64_t> weight_scale_shape() const;
};

// E2M1 code (0..15) of a value of the E2M1 grid (+-0, 0.5, 1, 1.5, 2, 3, 4, 6; -0 -> 8);
// throws QsError for any other value.
std::uint8_t e2m1_code(float value);
float e2m1_value(std::uint8_t code);  // low 4 bits

// elements [out, in]: values already divided by their block scale, on the E2M1 grid (as
// mx_encode returns them); shared_exponents [out, in / 32]: block exponents (E8M0 - 127, 128 for
// a NaN block). Throws QsError for in not a multiple of 32, an element off the grid, a NaN
// block, or a block exponent outside [-125, 129] that has a nonzero element (an all-zero
// block stores byte 0: any scale decodes it to zeros).
Mxfp4Packed mxfp4_pack(const std::vector<float>& elements,
                       const std::vector<std::int32_t>& shared_exponents, std::int64_t out_features,
                       std::int64_t in_features);
// Inverse of mxfp4_pack: elements [out, in] and shared exponents (byte - 125) [out, in / 32].
struct Mxfp4Unpacked {
    std::vector<float> elements;
    std::vector<std::int32_t> shared_exponents;
};
Mxfp4Unpacked mxfp4_unpack(const Mxfp4Packed& packed);
// Weight [out, in]: e2m1_value(code) * 2^(byte - 125).
std::vector<float> mxfp4_dequantize(const Mxfp4Packed& packed);

}  // namespace qs
