// Helpers shared by the GGUF tests (test_gguf.cpp, test_gguf_blocks.cpp, test_gguf_llama.cpp):
// raw file bytes, little-endian pokes into them, and the "error names the file" check.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/export/gguf_blocks.h"
#include "core/util/error.h"

namespace qs::test {

inline std::vector<std::uint8_t> read_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

template <typename T>
void poke(std::vector<std::uint8_t>& bytes, std::size_t at, T v)
{
    std::memcpy(bytes.data() + at, &v, sizeof(T));
}

inline void put_half(std::vector<std::uint8_t>& b, std::size_t at, float v)
{
    poke<std::uint16_t>(b, at, qs::gguf::fp32_to_fp16(v));
}

// Expects `fn` to throw a QsError whose message contains the path and `problem`.
template <typename Fn>
void expect_file_error(Fn fn, const std::string& path, const std::string& problem)
{
    try {
        fn();
        FAIL() << "no error; expected '" << problem << "'";
    } catch (const qs::QsError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(path), std::string::npos) << msg;
        EXPECT_NE(msg.find(problem), std::string::npos) << msg;
    }
}

// Deterministic pseudo-random bytes.
inline std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed)
{
    std::vector<std::uint8_t> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v)
        b = static_cast<std::uint8_t>(rng());
    return v;
}

}  // namespace qs::test
