#include "core/export/gptq_packing.h"

#include "core/export/bit_packing.h"
#include "core/util/error.h"

namespace qs {

namespace {

const char* const kContext = "gptq layout";

void require_gptq_bits(int bits)
{
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
        throw QsError(std::string(kContext) + ": " + std::to_string(bits) +
                      "-bit codes are not supported (2, 3, 4 or 8 bits)");
}

// AutoGPTQ sizes qweight as in // 32 * bits and qzeros as out // 32 * bits: both dimensions must
// fill whole words.
void require_whole_words(std::int64_t n, int bits, const char* what)
{
    if ((n * bits) % 32 != 0)
        throw QsError(std::string(kContext) + ": " + what + " " + std::to_string(n) +
                      " does not fill whole int32 words at " + std::to_string(bits) +
                      " bits (needs a multiple of " + std::to_string(bits == 3 ? 32 : 32 / bits) +
                      ")");
}

}  // namespace

std::vector<std::int64_t> GptqPacked::qweight_shape() const
{
    return {in_features * bits / 32, out_features};
}
std::vector<std::int64_t> GptqPacked::qzeros_shape() const
{
    return {groups, out_features * bits / 32};
}
std::vector<std::int64_t> GptqPacked::scales_shape() const
{
    return {groups, out_features};
}
std::vector<std::int64_t> GptqPacked::g_idx_shape() const
{
    return {in_features};
}

GptqPacked gptq_pack(const IntQuantizedLinear& linear, GptqZeroFormat zero_format)
{
    require_gptq_bits(linear.bits);
    linear.validate(kContext);
    require_whole_words(linear.in_features, linear.bits, "in_features");
    require_whole_words(linear.out_features, linear.bits, "out_features");

    GptqPacked p;
    p.out_features = linear.out_features;
    p.in_features = linear.in_features;
    p.bits = linear.bits;
    p.groups = linear.groups();
    p.zero_format = zero_format;
    // codes [out, in] -> [in, out], packed down the input rows.
    p.qweight = pack_bits(transposed(linear.codes, p.out_features, p.in_features), p.in_features,
                          p.out_features, p.bits, PackAxis::Rows, kContext);
    std::vector<std::int32_t> stored = transposed(linear.zeros, p.out_features, p.groups);
    const bool minus_one = zero_format == GptqZeroFormat::V1;
    for (std::size_t i = 0; minus_one && i < stored.size(); ++i) {
        if (stored[i] == 0)
            throw QsError(std::string(kContext) + ": zero point 0 (output " +
                          std::to_string(i % p.out_features) + ", group " +
                          std::to_string(i / p.out_features) +
                          ") has no encoding in the v1 zero-1 convention; gptq_v2, awq and "
                          "compressed-tensors store it");
        stored[i] -= 1;
    }
    p.qzeros = pack_bits(stored, p.groups, p.out_features, p.bits, PackAxis::Cols, kContext);
    p.scales = transposed(linear.scales, p.out_features, p.groups);
    p.g_idx = linear.full_g_idx();
    return p;
}

IntQuantizedLinear gptq_unpack(const GptqPacked& packed, std::int64_t group_size)
{
    require_gptq_bits(packed.bits);
    require_whole_words(packed.in_features, packed.bits, "in_features");
    require_whole_words(packed.out_features, packed.bits, "out_features");
    require_size(packed.scales.size(), packed.groups * packed.out_features, "scales", kContext);
    require_size(packed.g_idx.size(), packed.in_features, "g_idx", kContext);

    IntQuantizedLinear q;
    q.out_features = packed.out_features;
    q.in_features = packed.in_features;
    q.bits = packed.bits;
    q.group_size = group_size;
    q.codes = transposed(unpack_bits(packed.qweight, packed.in_features, packed.out_features,
                                     packed.bits, PackAxis::Rows, kContext),
                         packed.in_features, packed.out_features);
    std::vector<std::int32_t> zeros = unpack_bits(packed.qzeros, packed.groups, packed.out_features,
                                                  packed.bits, PackAxis::Cols, kContext);
    if (packed.zero_format == GptqZeroFormat::V1)
        for (auto& z : zeros)
            z += 1;
    q.zeros = transposed(zeros, packed.groups, packed.out_features);
    q.scales = transposed(packed.scales, packed.groups, packed.out_features);
    q.g_idx = packed.g_idx;
    if (q.groups() != packed.groups)
        throw QsError(std::string(kContext) + ": group size " + std::to_string(group_size) +
                      " gives " + std::to_string(q.groups()) + " groups for " +
                      std::to_string(packed.in_features) + " input columns, the tensors hold " +
                      std::to_string(packed.groups));
    for (std::size_t c = 0; c < q.g_idx.size(); ++c)
        if (q.g_idx[c] < 0 || q.g_idx[c] >= packed.groups)
            throw QsError(std::string(kContext) + ": g_idx [" + std::to_string(c) +
                          "] = " + std::to_string(q.g_idx[c]) + " is not one of the " +
                          std::to_string(packed.groups) + " groups");
    return q;
}

std::vector<float> gptq_dequantize(const GptqPacked& packed)
{
    // The group size is not in the tensors; any size giving packed.groups groups unpacks the
    // same values, since the stored g_idx decides each column's group.
    const std::int64_t group_size =
        packed.groups > 0 ? (packed.in_features + packed.groups - 1) / packed.groups : 0;
    IntQuantizedLinear q = gptq_unpack(packed, group_size);
    return q.dequantize();
}

}  // namespace qs
