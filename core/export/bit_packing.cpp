#include "core/export/bit_packing.h"

#include <c10/util/Half.h>

#include "core/util/error.h"

namespace qs {

namespace {

void require_bits(int bits, const std::string& context)
{
    if (bits < 1 || bits > 8)
        throw QsError(context + ": " + std::to_string(bits) + "-bit codes cannot be packed (1..8)");
}

// Stream position of code k packed with `bits`: word index and bit offset inside it.
struct BitPos {
    std::int64_t word;
    int shift;
};
BitPos bit_pos(std::int64_t k, int bits)
{
    const std::int64_t bit = k * bits;
    return {bit / 32, static_cast<int>(bit % 32)};
}

// Writes a code at stream position k of a line whose words are `stride` apart in `out`.
void put_code(std::uint32_t* line, std::int64_t stride, std::int64_t k, int bits,
              std::uint32_t code)
{
    const BitPos p = bit_pos(k, bits);
    line[p.word * stride] |= code << p.shift;
    if (p.shift + bits > 32) line[(p.word + 1) * stride] |= code >> (32 - p.shift);
}

std::uint32_t get_code(const std::uint32_t* line, std::int64_t stride, std::int64_t k, int bits)
{
    const BitPos p = bit_pos(k, bits);
    std::uint32_t v = line[p.word * stride] >> p.shift;
    if (p.shift + bits > 32) v |= line[(p.word + 1) * stride] << (32 - p.shift);
    return v & ((1u << bits) - 1u);
}

}  // namespace

std::int64_t packed_words(std::int64_t count, int bits)
{
    return (count * bits + 31) / 32;
}

void require_size(std::size_t actual, std::int64_t expected, const std::string& what,
                  const std::string& context)
{
    if (static_cast<std::int64_t>(actual) != expected)
        throw QsError(context + ": " + what + " has " + std::to_string(actual) +
                      " values, expected " + std::to_string(expected));
}

void require_codes_in_range(const std::vector<std::int32_t>& codes, int bits,
                            const std::string& what, const std::string& context)
{
    const std::int32_t limit = 1 << bits;
    for (std::size_t i = 0; i < codes.size(); ++i)
        if (codes[i] < 0 || codes[i] >= limit)
            throw QsError(context + ": " + what + " [" + std::to_string(i) + "] = " +
                          std::to_string(codes[i]) + " is outside the " + std::to_string(bits) +
                          "-bit range [0, " + std::to_string(limit - 1) + "]");
}

std::vector<std::int32_t> pack_bits(const std::vector<std::int32_t>& codes, std::int64_t rows,
                                    std::int64_t cols, int bits, PackAxis axis,
                                    const std::string& context)
{
    require_bits(bits, context);
    require_size(codes.size(), rows * cols, "codes", context);
    require_codes_in_range(codes, bits, "code", context);
    // Unsigned words: shifts into bit 31 are well defined, the bits are reinterpreted at the end.
    std::vector<std::uint32_t> words;
    if (axis == PackAxis::Rows) {
        words.assign(packed_words(rows, bits) * cols, 0u);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                put_code(words.data() + c, cols, r, bits,
                         static_cast<std::uint32_t>(codes[r * cols + c]));
    } else {
        const std::int64_t per_row = packed_words(cols, bits);
        words.assign(rows * per_row, 0u);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                put_code(words.data() + r * per_row, 1, c, bits,
                         static_cast<std::uint32_t>(codes[r * cols + c]));
    }
    return {words.begin(), words.end()};  // two's-complement reinterpretation
}

std::vector<std::int32_t> unpack_bits(const std::vector<std::int32_t>& words, std::int64_t rows,
                                      std::int64_t cols, int bits, PackAxis axis,
                                      const std::string& context)
{
    require_bits(bits, context);
    const std::vector<std::uint32_t> u(words.begin(), words.end());
    std::vector<std::int32_t> codes(rows * cols);
    if (axis == PackAxis::Rows) {
        require_size(words.size(), packed_words(rows, bits) * cols, "packed words", context);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                codes[r * cols + c] =
                    static_cast<std::int32_t>(get_code(u.data() + c, cols, r, bits));
    } else {
        const std::int64_t per_row = packed_words(cols, bits);
        require_size(words.size(), rows * per_row, "packed words", context);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                codes[r * cols + c] =
                    static_cast<std::int32_t>(get_code(u.data() + r * per_row, 1, c, bits));
    }
    return codes;
}

float fp16_bits_to_float(std::uint16_t bits)
{
    return static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
}

std::uint16_t float_to_fp16_bits(float value)
{
    return c10::Half(value).x;
}

}  // namespace qs
