// MX fake quantization against microsoft/microxcaling `_quantize_mx` outputs (every case of
// testvectors/mx/index.json, bit for bit), and the vectorised path against the scalar reference
// on random data with edge cases.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/quant/mx_quantizer.h"
#include "tests/core/test_support.h"

namespace {

using qs::MxElement;
using qs::Rounding;

std::string testvectors_dir()
{
    if (const char* env = std::getenv("QS_TESTVECTORS")) return env;
    return qs::test::shared_dir() + "/testvectors";
}

// microxcaling ElemFormat names.
MxElement element_from_reference_name(const std::string& name)
{
    if (name == "int8") return MxElement::Int8;
    if (name == "int6") return MxElement::Int6;
    if (name == "int4") return MxElement::Int4;
    if (name == "int3") return MxElement::Int3;
    if (name == "int2") return MxElement::Int2;
    if (name == "fp8_e4m3") return MxElement::Fp8E4M3;
    if (name == "fp8_e5m2") return MxElement::Fp8E5M2;
    if (name == "fp6_e3m2") return MxElement::Fp6E3M2;
    if (name == "fp6_e2m3") return MxElement::Fp6E2M3;
    if (name == "fp4_e2m1" || name == "fp4") return MxElement::Fp4E2M1;
    throw std::runtime_error("unknown element format in index.json: " + name);
}

bool same_float(float a, float b)
{
    return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) ||
           (std::isnan(a) && std::isnan(b));
}

// Empty when bit-identical, else the mismatch count and the first mismatch.
std::string compare_bits(const float* expected, const float* actual, std::size_t n)
{
    std::size_t mismatches = 0, first = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (same_float(expected[i], actual[i])) continue;
        if (mismatches++ == 0) first = i;
    }
    if (mismatches == 0) return {};
    std::ostringstream msg;
    msg.precision(9);
    msg << mismatches << " of " << n << " values differ; first at index " << first << ": expected "
        << expected[first] << " (0x" << std::hex << std::bit_cast<std::uint32_t>(expected[first])
        << "), actual " << std::dec << actual[first] << " (0x" << std::hex
        << std::bit_cast<std::uint32_t>(actual[first]) << ")";
    return msg.str();
}

TEST(MxTestvectors, EveryCaseBitExact)
{
    QS_REQUIRE_SHARED();
    const std::string dir = testvectors_dir() + "/mx";
    std::ifstream index_file(dir + "/index.json");
    ASSERT_TRUE(index_file.good()) << "cannot open " << dir << "/index.json";
    const auto index = nlohmann::json::parse(index_file);

    const auto shape = index.at("input").at("shape").get<std::vector<std::int64_t>>();
    auto input_values =
        qs::test::read_raw<float>(dir + "/" + index.at("input").at("file").get<std::string>());
    ASSERT_EQ(static_cast<std::int64_t>(input_values.size()), shape.at(0) * shape.at(1));
    auto input = torch::from_blob(input_values.data(), {shape.at(0), shape.at(1)}, torch::kFloat32);

    const auto& cases = index.at("cases");
    ASSERT_FALSE(cases.empty());
    int exact = 0;
    for (const auto& c : cases) {
        const std::string file = c.at("file").get<std::string>();
        SCOPED_TRACE("case " + file);
        const auto element = element_from_reference_name(c.at("element_format").get<std::string>());
        const int block = c.at("block_size").get<int>();
        const std::string rounding_name = c.at("rounding").get<std::string>();
        ASSERT_TRUE(rounding_name == "nearest" || rounding_name == "even") << rounding_name;
        const auto rounding = rounding_name == "even" ? Rounding::Even : Rounding::Nearest;

        auto expected = qs::test::read_raw<float>(dir + "/" + file);
        ASSERT_EQ(expected.size(), input_values.size());
        auto actual = qs::mx_quantize_dequantize(input, element, block, rounding).contiguous();
        auto reference = qs::mx_quantize_dequantize_reference(input, element, block, rounding);

        auto diff = compare_bits(expected.data(), actual.data_ptr<float>(), expected.size());
        EXPECT_TRUE(diff.empty()) << file << " (vectorised): " << diff;
        auto diff_ref = compare_bits(expected.data(), reference.data_ptr<float>(), expected.size());
        EXPECT_TRUE(diff_ref.empty()) << file << " (scalar reference): " << diff_ref;
        if (diff.empty() && diff_ref.empty()) ++exact;
    }
    std::cout << "[ MX ] " << exact << " of " << cases.size() << " reference cases bit-exact\n";
}

// Random rows with the edges that matter: exact ties at every element precision, values just
// below powers of two (float32 log2 rounding), zeros of both signs, float32 subnormals, huge
// values, and one block each with Inf and NaN.
torch::Tensor random_with_edges(std::int64_t rows, std::int64_t cols, std::uint64_t seed)
{
    torch::manual_seed(seed);
    auto x = torch::randn({rows, cols});
    // Rows at very different magnitudes.
    auto row_scale = torch::pow(2.0f, torch::randint(-40, 40, {rows, 1}).to(torch::kFloat32));
    x = x * row_scale;
    auto flat = x.view(-1);
    const std::int64_t n = flat.numel();
    auto put = [&](std::int64_t i, float v) {
        if (i < n) flat[i] = v;
    };
    // Ties: multiples of 2^-k with k small, so that scaled elements land on .5 exactly.
    auto ties = torch::randint(-64, 64, {n}).to(torch::kFloat32) / 8.0f;
    auto use_ties = torch::rand({n}) < 0.3;
    flat.copy_(torch::where(use_ties, ties, flat));
    std::int64_t i = 0;
    for (int k = -130; k <= 127; k += 3) {
        put(i++ * 7 % n, std::nextafter(std::ldexp(1.0f, k), 0.0f));
        put(i++ * 7 % n, -std::ldexp(1.0f, k));
    }
    put(n / 3, 0.0f);
    put(n / 3 + 1, -0.0f);
    put(n / 2, std::numeric_limits<float>::denorm_min() * 3);
    put(n / 2 + 1, -1e-40f);
    put(n / 2 + 2, 3.0e38f);
    put(n - 1, std::numeric_limits<float>::infinity());
    put(n - cols - 1, std::numeric_limits<float>::quiet_NaN());
    // A whole block of zeros and a block of subnormals.
    if (cols >= 16) {
        x[0].narrow(0, 0, 16).zero_();
        if (rows > 1) x[1].narrow(0, 0, 16).fill_(1e-42f);
    }
    return x;
}

TEST(MxReference, VectorisedMatchesScalarBitForBit)
{
    const MxElement elements[] = {MxElement::Int8,    MxElement::Int6,    MxElement::Int4,
                                  MxElement::Int3,    MxElement::Int2,    MxElement::Fp8E4M3,
                                  MxElement::Fp8E5M2, MxElement::Fp6E3M2, MxElement::Fp6E2M3,
                                  MxElement::Fp4E2M1};
    const std::int64_t col_counts[] = {16, 100, 128, 257};
    const int blocks[] = {16, 32, 64, 128};
    std::uint64_t seed = 1;
    for (auto element : elements) {
        for (auto rounding : {Rounding::Nearest, Rounding::Even}) {
            for (auto cols : col_counts) {
                for (int block : blocks) {
                    auto x = random_with_edges(9, cols, seed++);
                    auto fast =
                        qs::mx_quantize_dequantize(x, element, block, rounding).contiguous();
                    auto ref = qs::mx_quantize_dequantize_reference(x, element, block, rounding);
                    auto diff = compare_bits(ref.data_ptr<float>(), fast.data_ptr<float>(),
                                             static_cast<std::size_t>(x.numel()));
                    EXPECT_TRUE(diff.empty())
                        << "element " << int(element) << " rounding " << int(rounding) << " cols "
                        << cols << " block " << block << ": " << diff;
                }
            }
        }
    }
}

TEST(MxReference, ElementGridAndSaturation)
{
    // With a block max of exactly max_norm the shared scale is 1 for every format, so the
    // outputs are element values themselves.
    for (auto element :
         {MxElement::Int8, MxElement::Int4, MxElement::Int2, MxElement::Fp8E4M3, MxElement::Fp8E5M2,
          MxElement::Fp6E3M2, MxElement::Fp6E2M3, MxElement::Fp4E2M1}) {
        const float max_norm = static_cast<float>(qs::mx_element_max(element));
        auto x = torch::tensor({max_norm, -max_norm, 0.0f, 1.0f});
        auto q = qs::mx_quantize_dequantize(x, element, 32);
        EXPECT_EQ(q[0].item<float>(), max_norm) << int(element);
        EXPECT_EQ(q[1].item<float>(), -max_norm) << int(element);
        EXPECT_EQ(q[3].item<float>(), 1.0f) << int(element);
    }
    // FP4 E2M1 grid {0, 0.5, 1, 1.5, 2, 3, 4, 6}: 2.5 ties to 3 (nearest) or 2 (even).
    auto x = torch::tensor({6.0f, 2.5f, 5.0f, 0.25f, 0.74f});
    auto nearest = qs::mx_quantize_dequantize(x, MxElement::Fp4E2M1, 32, Rounding::Nearest);
    auto even = qs::mx_quantize_dequantize(x, MxElement::Fp4E2M1, 32, Rounding::Even);
    EXPECT_EQ(nearest[1].item<float>(), 3.0f);
    EXPECT_EQ(even[1].item<float>(), 2.0f);
    EXPECT_EQ(nearest[2].item<float>(), 6.0f);  // 5 ties between 4 and 6: away from zero
    EXPECT_EQ(even[2].item<float>(), 4.0f);     // even mantissa
    EXPECT_EQ(nearest[3].item<float>(), 0.5f);  // subnormal tie 0.25 -> 0.5
    EXPECT_EQ(even[3].item<float>(), 0.0f);
    EXPECT_EQ(nearest[4].item<float>(), 0.5f);
    // MXINT8: block max 1 -> shared exponent 0, step 1/64.
    auto i8 =
        qs::mx_quantize_dequantize(torch::tensor({1.0f, 0.5f + 1.0f / 128}), MxElement::Int8, 32);
    EXPECT_EQ(i8[1].item<float>(), 0.5f + 1.0f / 64);
}

TEST(MxReference, EncodeMatchesQuantizeDequantize)
{
    auto x = random_with_edges(5, 100, 77);
    for (auto element : {MxElement::Int4, MxElement::Fp8E4M3, MxElement::Fp4E2M1}) {
        auto enc = qs::mx_encode(x, element, 32);
        ASSERT_EQ(enc.shared_exponent.sizes(), (std::vector<std::int64_t>{5, 4}));
        ASSERT_EQ(enc.shared_exponent.scalar_type(), torch::kInt32);
        auto e = enc.shared_exponent.to(torch::kFloat32);
        auto scale = torch::where(e == 128, torch::full_like(e, NAN),
                                  torch::pow(2.0, e.to(torch::kFloat64)).to(torch::kFloat32));
        auto per_column = scale.repeat_interleave(32, 1).narrow(1, 0, 100);
        auto rebuilt = (enc.elements * per_column).contiguous();
        auto direct = qs::mx_quantize_dequantize(x, element, 32).contiguous();
        auto diff = compare_bits(direct.data_ptr<float>(), rebuilt.data_ptr<float>(), 500);
        EXPECT_TRUE(diff.empty()) << int(element) << ": " << diff;
        EXPECT_LE(enc.elements.abs().nan_to_num(0).max().item<float>(),
                  qs::mx_element_max(element));
        EXPECT_GE(enc.shared_exponent.min().item<int>(), -127);
        EXPECT_LE(enc.shared_exponent.max().item<int>(), 128);
    }
}

}  // namespace
