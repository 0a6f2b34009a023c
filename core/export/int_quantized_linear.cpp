#include "core/export/int_quantized_linear.h"

#include "core/export/bit_packing.h"
#include "core/util/error.h"

namespace qs {

std::int64_t IntQuantizedLinear::groups() const
{
    return group_size > 0 ? (in_features + group_size - 1) / group_size : 0;
}

std::int32_t IntQuantizedLinear::group_of(std::int64_t column) const
{
    return g_idx.empty() ? static_cast<std::int32_t>(column / group_size) : g_idx[column];
}

std::vector<std::int32_t> IntQuantizedLinear::full_g_idx() const
{
    std::vector<std::int32_t> full(in_features);
    for (std::int64_t c = 0; c < in_features; ++c)
        full[c] = group_of(c);
    return full;
}

bool IntQuantizedLinear::has_contiguous_groups() const
{
    for (std::int64_t c = 0; c < in_features; ++c)
        if (group_of(c) != c / group_size) return false;
    return true;
}

void IntQuantizedLinear::validate(const std::string& context) const
{
    if (out_features <= 0 || in_features <= 0)
        throw QsError(context + ": empty weight [" + std::to_string(out_features) + ", " +
                      std::to_string(in_features) + "]");
    if (bits < 1 || bits > 8)
        throw QsError(context + ": " + std::to_string(bits) + "-bit codes are not supported");
    if (group_size <= 0)
        throw QsError(context + ": group size " + std::to_string(group_size) +
                      " must be positive (in_features for per-channel)");
    require_size(codes.size(), out_features * in_features, "codes", context);
    require_size(scales.size(), out_features * groups(), "scales", context);
    require_size(zeros.size(), out_features * groups(), "zeros", context);
    if (!g_idx.empty()) {
        require_size(g_idx.size(), in_features, "g_idx", context);
        for (std::size_t c = 0; c < g_idx.size(); ++c)
            if (g_idx[c] < 0 || g_idx[c] >= groups())
                throw QsError(context + ": g_idx [" + std::to_string(c) +
                              "] = " + std::to_string(g_idx[c]) + " is not a group in [0, " +
                              std::to_string(groups() - 1) + "]");
    }
    require_codes_in_range(codes, bits, "code", context);
    require_codes_in_range(zeros, bits, "zero point", context);
}

std::vector<float> IntQuantizedLinear::dequantize() const
{
    const std::int64_t n_groups = groups();
    std::vector<float> w(codes.size());
    for (std::int64_t o = 0; o < out_features; ++o)
        for (std::int64_t c = 0; c < in_features; ++c) {
            const std::int64_t g = o * n_groups + group_of(c);
            w[o * in_features + c] = fp16_bits_to_float(scales[g]) *
                                     static_cast<float>(codes[o * in_features + c] - zeros[g]);
        }
    return w;
}

}  // namespace qs
