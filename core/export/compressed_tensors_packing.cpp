#include "core/export/compressed_tensors_packing.h"

#include <cmath>

#include "core/export/bit_packing.h"
#include "core/util/error.h"

namespace qs {

namespace {

const char* const kContext = "compressed-tensors layout";
const char* const kMxContext = "compressed-tensors mxfp4 layout";

void require_ct_bits(int bits)
{
    if (bits != 4 && bits != 8)
        throw QsError(std::string(kContext) + ": " + std::to_string(bits) +
                      "-bit codes are not supported (pack-quantized stores 4 or 8 bits)");
}

// E2M1 magnitudes by code (bits 0-2).
constexpr float kE2M1Magnitudes[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

}  // namespace

std::vector<std::int64_t> CompressedTensorsPacked::weight_packed_shape() const
{
    return {out_features, packed_words(in_features, bits)};
}
std::vector<std::int64_t> CompressedTensorsPacked::weight_scale_shape() const
{
    return {out_features, groups};
}
std::vector<std::int64_t> CompressedTensorsPacked::weight_zero_point_shape() const
{
    if (symmetric) return {};
    return {packed_words(out_features, bits), groups};
}

CompressedTensorsPacked compressed_tensors_pack(const IntQuantizedLinear& linear, bool symmetric)
{
    require_ct_bits(linear.bits);
    linear.validate(kContext);
    const std::int32_t mid = 1 << (linear.bits - 1);
    if (symmetric)
        for (std::size_t i = 0; i < linear.zeros.size(); ++i)
            if (linear.zeros[i] != mid)
                throw QsError(std::string(kContext) + ": symmetric scheme needs every zero point " +
                              "at " + std::to_string(mid) + ", zero [" + std::to_string(i) +
                              "] is " + std::to_string(linear.zeros[i]));

    CompressedTensorsPacked p;
    p.out_features = linear.out_features;
    p.in_features = linear.in_features;
    p.bits = linear.bits;
    p.groups = linear.groups();
    p.symmetric = symmetric;
    p.weight_packed =
        pack_bits(linear.codes, p.out_features, p.in_features, p.bits, PackAxis::Cols, kContext);
    p.weight_scale = linear.scales;
    if (!symmetric)
        p.weight_zero_point =
            pack_bits(linear.zeros, p.out_features, p.groups, p.bits, PackAxis::Rows, kContext);
    if (!linear.has_contiguous_groups()) p.weight_g_idx = linear.full_g_idx();
    p.weight_shape = {p.out_features, p.in_features};
    return p;
}

IntQuantizedLinear compressed_tensors_unpack(const CompressedTensorsPacked& packed,
                                             std::int64_t group_size)
{
    require_ct_bits(packed.bits);
    if (packed.weight_shape[0] != packed.out_features ||
        packed.weight_shape[1] != packed.in_features)
        throw QsError(std::string(kContext) + ": weight_shape does not match the layer");
    IntQuantizedLinear q;
    q.out_features = packed.out_features;
    q.in_features = packed.in_features;
    q.bits = packed.bits;
    q.group_size = group_size;
    if (group_size <= 0 || q.groups() != packed.groups)
        throw QsError(std::string(kContext) + ": group size " + std::to_string(group_size) +
                      " does not give the " + std::to_string(packed.groups) + " stored groups");
    q.codes = unpack_bits(packed.weight_packed, packed.out_features, packed.in_features,
                          packed.bits, PackAxis::Cols, kContext);
    q.scales = packed.weight_scale;
    if (packed.symmetric)
        q.zeros.assign(packed.out_features * packed.groups, 1 << (packed.bits - 1));
    else
        q.zeros = unpack_bits(packed.weight_zero_point, packed.out_features, packed.groups,
                              packed.bits, PackAxis::Rows, kContext);
    q.g_idx = packed.weight_g_idx;
    q.validate(kContext);
    return q;
}

std::vector<std::int64_t> Mxfp4Packed::weight_packed_shape() const
{
    return {out_features, in_features / 2};
}
std::vector<std::int64_t> Mxfp4Packed::weight_scale_shape() const
{
    return {out_features, in_features / kMxfp4BlockSize};
}

std::uint8_t e2m1_code(float value)
{
    const float magnitude = std::fabs(value);
    for (std::uint8_t m = 0; m < 8; ++m)
        if (magnitude == kE2M1Magnitudes[m])
            return static_cast<std::uint8_t>(m | (std::signbit(value) ? 8u : 0u));
    throw QsError(std::string(kMxContext) + ": element " + std::to_string(value) +
                  " is not an E2M1 value (+-0, 0.5, 1, 1.5, 2, 3, 4, 6)");
}

float e2m1_value(std::uint8_t code)
{
    const float magnitude = kE2M1Magnitudes[code & 7u];
    return (code & 8u) ? -magnitude : magnitude;
}

Mxfp4Packed mxfp4_pack(const std::vector<float>& elements,
                       const std::vector<std::int32_t>& shared_exponents, std::int64_t out_features,
                       std::int64_t in_features)
{
    if (out_features <= 0 || in_features <= 0 || in_features % kMxfp4BlockSize != 0)
        throw QsError(std::string(kMxContext) + ": weight [" + std::to_string(out_features) + ", " +
                      std::to_string(in_features) +
                      "] needs in_features a positive multiple of 32");
    const std::int64_t blocks = in_features / kMxfp4BlockSize;
    require_size(elements.size(), out_features * in_features, "elements", kMxContext);
    require_size(shared_exponents.size(), out_features * blocks, "shared exponents", kMxContext);

    Mxfp4Packed p;
    p.out_features = out_features;
    p.in_features = in_features;
    p.weight_packed.assign(out_features * in_features / 2, 0);
    p.weight_scale.assign(out_features * blocks, 0);
    for (std::int64_t i = 0; i < out_features * in_features; i += 2)
        p.weight_packed[i / 2] =
            static_cast<std::uint8_t>(e2m1_code(elements[i]) | (e2m1_code(elements[i + 1]) << 4));
    for (std::int64_t b = 0; b < out_features * blocks; ++b) {
        const std::int32_t e = shared_exponents[b];
        const std::int32_t byte = e + kCompressedTensorsMxfp4ScaleBias;
        if (e == 128)
            throw QsError(std::string(kMxContext) + ": block " + std::to_string(b) +
                          " is NaN (shared exponent above 127); the format has no NaN scale");
        if (byte >= 0 && byte <= 254) {
            p.weight_scale[b] = static_cast<std::uint8_t>(byte);
            continue;
        }
        const std::int64_t first = b * kMxfp4BlockSize;  // blocks tile rows: in % 32 == 0
        for (std::int64_t k = 0; k < kMxfp4BlockSize; ++k)
            if (elements[first + k] != 0.0f)
                throw QsError(std::string(kMxContext) + ": block " + std::to_string(b) +
                              " has shared exponent " + std::to_string(e) +
                              ", outside the [-125, 129] the biased scale byte holds");
    }
    return p;
}

Mxfp4Unpacked mxfp4_unpack(const Mxfp4Packed& packed)
{
    if (packed.in_features % kMxfp4BlockSize != 0)
        throw QsError(std::string(kMxContext) + ": in_features " +
                      std::to_string(packed.in_features) + " is not a multiple of 32");
    const std::int64_t n = packed.out_features * packed.in_features;
    require_size(packed.weight_packed.size(), n / 2, "weight_packed", kMxContext);
    require_size(packed.weight_scale.size(), n / kMxfp4BlockSize, "weight_scale", kMxContext);
    Mxfp4Unpacked u;
    u.elements.resize(n);
    for (std::int64_t i = 0; i < n; i += 2) {
        u.elements[i] = e2m1_value(packed.weight_packed[i / 2] & 0x0Fu);
        u.elements[i + 1] = e2m1_value(packed.weight_packed[i / 2] >> 4);
    }
    u.shared_exponents.resize(packed.weight_scale.size());
    for (std::size_t b = 0; b < packed.weight_scale.size(); ++b)
        u.shared_exponents[b] = packed.weight_scale[b] - kCompressedTensorsMxfp4ScaleBias;
    return u;
}

std::vector<float> mxfp4_dequantize(const Mxfp4Packed& packed)
{
    Mxfp4Unpacked u = mxfp4_unpack(packed);
    for (std::size_t i = 0; i < u.elements.size(); ++i)
        u.elements[i] = std::ldexp(u.elements[i], u.shared_exponents[i / kMxfp4BlockSize]);
    return u.elements;
}

}  // namespace qs
