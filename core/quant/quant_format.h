// Number formats QuantScope quantizes to, by name, with their exact storage cost.
// Names (case-insensitive):
//   INT:  "int<b>[-g<group>|-channel|-tensor|-token][-sym|-asym][-mse]", b = 2..8,
//         e.g. "int4-g128-asym" (default granularity: channel; default: asym for weights)
//   MX:   "mxint<d>-<block>" (d = 8, 6, 4, 3, 2) and "mxfp8-e4m3-<block>", "mxfp8-e5m2-<block>",
//         "mxfp6-e3m2-<block>", "mxfp6-e2m3-<block>", "mxfp4-<block>" (E2M1), block 16/32/64/128,
//         optional suffix "-even" for round-half-to-even (default: nearest, half away from zero)
//   FP8:  "fp8-e4m3[-tensor|-channel]", "fp8-e5m2[-tensor|-channel]" (default: channel)
//   "fp32" / "none": not quantized.
#pragma once

#include <cstdint>
#include <string>

namespace qs {

enum class FormatKind { None, Int, Mx, Fp8 };
enum class Granularity { Tensor, Channel, Group, Token };
enum class Rounding { Nearest, Even };  // nearest = half away from zero (microxcaling default)
// MX element types (OCP MX v1.0, plus the seed paper's MXINT6/3).
enum class MxElement { Int8, Int6, Int4, Int3, Int2, Fp8E4M3, Fp8E5M2, Fp6E3M2, Fp6E2M3, Fp4E2M1 };
enum class Fp8Variant { E4M3, E5M2 };

struct QuantFormat {
    FormatKind kind = FormatKind::None;
    // INT
    int bits = 16;
    bool symmetric = false;
    Granularity granularity = Granularity::Channel;
    int group_size = 0;  // Granularity::Group
    bool mse = false;
    // MX
    MxElement element = MxElement::Int8;
    int block_size = 32;
    Rounding rounding = Rounding::Nearest;
    // FP8
    Fp8Variant fp8 = Fp8Variant::E4M3;

    // Throws QsError naming the format and what is accepted.
    static QuantFormat parse(const std::string& name);
    std::string name() const;  // canonical name; parse(name()) == *this

    // Bits per element of the element codes alone (4 for int4, mxint4, mxfp4; 8 for fp8).
    int element_bits() const;
    // Exact storage of a weight [rows, cols] in bits, metadata included:
    //   INT: codes + per (row, group) an fp16 scale and, when asymmetric, a `bits`-bit zero point;
    //   MX: codes + one 8-bit E8M0 exponent per block of block_size along the input dimension
    //       (a partial last block still stores its exponent);
    //   FP8: codes + an fp32 scale per tensor or per row;  None: 16 bits per weight (fp16).
    std::int64_t storage_bits(std::int64_t rows, std::int64_t cols) const;
    double bits_per_weight(std::int64_t rows, std::int64_t cols) const;
};

bool operator==(const QuantFormat& a, const QuantFormat& b);

}  // namespace qs
