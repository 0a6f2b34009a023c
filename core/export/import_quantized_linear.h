// Dequantization of one packed linear of another tool's checkpoint back to a float weight
// [out, in], as the reference loaders compute it: w = scale[group(c), o] * (q - zero).
//  - GPTQ (AutoGPTQ / GPTQModel): <module>.qweight, .qzeros, .scales, .g_idx (gptq_packing.h);
//    checkpoint_format "gptq" stores zero - 1 (loaders add 1 back), "gptq_v2" the zero itself.
//  - AWQ GEMM (AutoAWQ): <module>.qweight, .qzeros, .scales (awq_packing.h).
//  - compressed-tensors pack-quantized: <module>.weight_packed, .weight_scale,
//    .weight_zero_point (asymmetric only), .weight_g_idx (act-order), .weight_shape
//    (compressed_tensors_packing.h); mxfp4-pack-quantized: uint8 .weight_packed [out, in / 2]
//    and .weight_scale [out, in / 32] (E2M1 pairs, exponent bytes biased by 125).
// Scales may be stored as F16 (the standard), BF16 or F32; they are widened to float32 and the
// product is taken in float32, so the result equals the codecs' dequantize() bit for bit for
// fp16 scales. Every problem is a QsError naming the checkpoint and the tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/io/tensor_store.h"

namespace qs {

// The parts of quantization_config that decide how a layer is unpacked.
struct PackedScheme {
    enum class Kind { Gptq, Awq, CompressedTensors };
    Kind kind = Kind::Gptq;
    int bits = 4;
    std::int64_t group_size = -1;  // -1: one group per output row (per channel)
    bool desc_act = false;         // GPTQ: g_idx decides the groups
    bool gptq_v2 = false;          // GPTQ: zeros stored without the v1 "minus one"
    bool mxfp4 = false;            // compressed-tensors mxfp4-pack-quantized
};

// Tensor-name suffixes of a packed linear in this scheme (".qweight", ... or ".weight_packed",
// ...): a stored tensor "<module><suffix>" belongs to the packed module <module>.
const std::vector<std::string>& packed_suffixes(PackedScheme::Kind kind);
// The suffix whose presence marks a packed module (".qweight" or ".weight_packed").
std::string packed_marker(PackedScheme::Kind kind);

struct DequantizedLinear {
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    std::vector<float> weight;  // [out, in] row-major
    // GPTQ with desc_act false whose stored g_idx is not the contiguous c / group_size: the
    // groups follow desc_act, as vLLM does (it drops g_idx unless desc_act).
    bool g_idx_ignored = false;
};

// Throws QsError "<checkpoint>: <module>: <problem>" for missing tensors, wrong dtypes or
// shapes, unsupported bits and codes or zeros the layout cannot hold.
DequantizedLinear dequantize_packed_linear(const TensorStore& store, const std::string& module,
                                           const PackedScheme& scheme);

}  // namespace qs
