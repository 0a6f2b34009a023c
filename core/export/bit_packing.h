// Bit-level helpers shared by the checkpoint packing codecs (GPTQ, AWQ, compressed-tensors).
// Packing model: the codes of one line (a column when packing along rows, a row when packing
// along columns) form a little-endian bit stream, code k in stream bits [k*bits, (k+1)*bits),
// and word w of the line holds stream bits [32w, 32w + 32). For bits dividing 32 this is
// "32/bits codes per int32, lowest bits first"; for 3 bits it is exactly AutoGPTQ's scheme of
// 32 codes in 3 words (code 10 straddles words 0/1, code 21 words 1/2). A line whose bit count
// is not a multiple of 32 is zero-padded (compressed-tensors pads, GPTQ/AWQ callers forbid it).
// Matrices are row-major std::vectors with their shape passed alongside.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

enum class PackAxis {
    Rows,  // pack down each column: [rows, cols] -> [words(rows), cols]
    Cols,  // pack along each row:   [rows, cols] -> [rows, words(cols)]
};

// Words needed for `count` codes of `bits` bits (rounded up).
std::int64_t packed_words(std::int64_t count, int bits);

// codes [rows, cols], each in [0, 2^bits), bits in 1..8. Throws QsError naming `context` for a
// size mismatch or a code out of range.
std::vector<std::int32_t> pack_bits(const std::vector<std::int32_t>& codes, std::int64_t rows,
                                    std::int64_t cols, int bits, PackAxis axis,
                                    const std::string& context);
// Inverse of pack_bits: rows/cols are the unpacked shape; padding bits are ignored.
std::vector<std::int32_t> unpack_bits(const std::vector<std::int32_t>& words, std::int64_t rows,
                                      std::int64_t cols, int bits, PackAxis axis,
                                      const std::string& context);

// Throws QsError("<context>: <what> has N values, expected M").
void require_size(std::size_t actual, std::int64_t expected, const std::string& what,
                  const std::string& context);
// Throws QsError when some value lies outside [0, 2^bits), naming the first one's index.
void require_codes_in_range(const std::vector<std::int32_t>& codes, int bits,
                            const std::string& what, const std::string& context);

// [rows, cols] -> [cols, rows]
template <typename T>
std::vector<T> transposed(const std::vector<T>& m, std::int64_t rows, std::int64_t cols)
{
    std::vector<T> t(m.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
            t[c * rows + r] = m[r * cols + c];
    return t;
}

// IEEE binary16 bit patterns (scales are stored as fp16 in every integer layout).
float fp16_bits_to_float(std::uint16_t bits);
std::uint16_t float_to_fp16_bits(float value);  // round to nearest even, as torch's .half()

}  // namespace qs
