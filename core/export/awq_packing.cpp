#include "core/export/awq_packing.h"

#include "core/export/bit_packing.h"
#include "core/util/error.h"

namespace qs {

namespace {

const char* const kContext = "awq layout";
constexpr int kBits = 4;
constexpr std::int64_t kPerWord = 32 / kBits;

// Reorders the columns of m [rows, cols] so that, within each run of 8, position k holds the
// column kAwqOrder[k]; plain lowest-bits-first packing then gives AutoAWQ's words.
template <typename T>
std::vector<T> interleave(const std::vector<T>& m, std::int64_t rows, std::int64_t cols)
{
    std::vector<T> out(m.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; c += kPerWord)
            for (std::int64_t k = 0; k < kPerWord; ++k)
                out[r * cols + c + k] = m[r * cols + c + kAwqOrder[k]];
    return out;
}

template <typename T>
std::vector<T> deinterleave(const std::vector<T>& m, std::int64_t rows, std::int64_t cols)
{
    std::vector<T> out(m.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; c += kPerWord)
            for (std::int64_t k = 0; k < kPerWord; ++k)
                out[r * cols + c + kAwqOrder[k]] = m[r * cols + c + k];
    return out;
}

void require_shape(std::int64_t out_features, std::int64_t in_features, std::int64_t group_size)
{
    if (out_features % kPerWord != 0)
        throw QsError(std::string(kContext) + ": out_features " + std::to_string(out_features) +
                      " is not a multiple of 8 (8 outputs per int32 word)");
    if (group_size <= 0 || in_features % group_size != 0)
        throw QsError(std::string(kContext) + ": in_features " + std::to_string(in_features) +
                      " is not a multiple of the group size " + std::to_string(group_size));
}

}  // namespace

std::vector<std::int64_t> AwqPacked::qweight_shape() const
{
    return {in_features, out_features / kPerWord};
}
std::vector<std::int64_t> AwqPacked::qzeros_shape() const
{
    return {groups, out_features / kPerWord};
}
std::vector<std::int64_t> AwqPacked::scales_shape() const
{
    return {groups, out_features};
}

AwqPacked awq_pack(const IntQuantizedLinear& linear)
{
    if (linear.bits != kBits)
        throw QsError(std::string(kContext) + ": " + std::to_string(linear.bits) +
                      "-bit codes are not supported (AutoAWQ GEMM stores 4 bits only)");
    linear.validate(kContext);
    require_shape(linear.out_features, linear.in_features, linear.group_size);
    if (!linear.has_contiguous_groups())
        throw QsError(std::string(kContext) +
                      ": act-order groups (g_idx) cannot be stored; the gptq or "
                      "compressed-tensors layouts keep g_idx");

    AwqPacked p;
    p.out_features = linear.out_features;
    p.in_features = linear.in_features;
    p.group_size = linear.group_size;
    p.groups = linear.groups();
    const auto codes_t = transposed(linear.codes, p.out_features, p.in_features);  // [in, out]
    p.qweight = pack_bits(interleave(codes_t, p.in_features, p.out_features), p.in_features,
                          p.out_features, kBits, PackAxis::Cols, kContext);
    const auto zeros_t = transposed(linear.zeros, p.out_features, p.groups);  // [groups, out]
    p.qzeros = pack_bits(interleave(zeros_t, p.groups, p.out_features), p.groups, p.out_features,
                         kBits, PackAxis::Cols, kContext);
    p.scales = transposed(linear.scales, p.out_features, p.groups);
    return p;
}

IntQuantizedLinear awq_unpack(const AwqPacked& packed)
{
    require_shape(packed.out_features, packed.in_features, packed.group_size);
    const std::int64_t groups = packed.in_features / packed.group_size;
    if (packed.groups != groups)
        throw QsError(std::string(kContext) + ": " + std::to_string(packed.groups) +
                      " groups stored, group size " + std::to_string(packed.group_size) +
                      " gives " + std::to_string(groups));
    require_size(packed.scales.size(), groups * packed.out_features, "scales", kContext);

    IntQuantizedLinear q;
    q.out_features = packed.out_features;
    q.in_features = packed.in_features;
    q.bits = kBits;
    q.group_size = packed.group_size;
    const auto codes_t =
        deinterleave(unpack_bits(packed.qweight, packed.in_features, packed.out_features, kBits,
                                 PackAxis::Cols, kContext),
                     packed.in_features, packed.out_features);
    q.codes = transposed(codes_t, packed.in_features, packed.out_features);
    const auto zeros_t = deinterleave(
        unpack_bits(packed.qzeros, groups, packed.out_features, kBits, PackAxis::Cols, kContext),
        groups, packed.out_features);
    q.zeros = transposed(zeros_t, groups, packed.out_features);
    q.scales = transposed(packed.scales, groups, packed.out_features);
    return q;
}

std::vector<float> awq_dequantize(const AwqPacked& packed)
{
    return awq_unpack(packed).dequantize();
}

}  // namespace qs
