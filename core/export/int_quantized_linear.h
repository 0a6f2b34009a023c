// One linear layer quantized to uniform integers, in the engine's orientation, as the packing
// codecs (gptq_packing, awq_packing, compressed_tensors_packing) take and return it:
//   W [out, in] row-major; codes q in [0, 2^bits); per (output row, group) an fp16 scale and an
//   integer zero point in [0, 2^bits); w = scale * (q - zero).
//   Symmetric quantization (GPTQ convention) is the special case zero = 2^(bits-1).
//   g_idx[c] is the group of input column c (act-order scatters columns over groups); empty
//   means the contiguous mapping c / group_size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

struct IntQuantizedLinear {
    std::int64_t out_features = 0;
    std::int64_t in_features = 0;
    int bits = 4;
    std::int64_t group_size = 0;        // input columns per group; in_features = per channel
    std::vector<std::int32_t> codes;    // [out, in]
    std::vector<std::uint16_t> scales;  // [out, groups] fp16 bit patterns
    std::vector<std::int32_t> zeros;    // [out, groups]
    std::vector<std::int32_t> g_idx;    // [in] or empty

    // ceil(in / group_size)
    std::int64_t groups() const;
    // g_idx[c], or c / group_size when g_idx is empty.
    std::int32_t group_of(std::int64_t column) const;
    // g_idx with the contiguous mapping filled in: always [in].
    std::vector<std::int32_t> full_g_idx() const;
    // True when every column c lies in group c / group_size (no act-order scatter).
    bool has_contiguous_groups() const;

    // Throws QsError prefixed with `context` for inconsistent sizes, codes or zeros outside
    // [0, 2^bits), a group size that is not positive, or a g_idx entry outside [0, groups).
    void validate(const std::string& context) const;

    // Dequantized weight [out, in] float32: fp16 scale widened to float times (q - zero).
    std::vector<float> dequantize() const;
};

}  // namespace qs
