// QuantFormat: names (parse, canonical name, round trips, errors) and exact storage costs.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/quant/quant_format.h"
#include "core/util/error.h"

namespace {

using qs::FormatKind;
using qs::Granularity;
using qs::MxElement;
using qs::QuantFormat;

TEST(QuantFormat, ParsesIntegerNames)
{
    auto f = QuantFormat::parse("int4-g128-asym");
    EXPECT_EQ(f.kind, FormatKind::Int);
    EXPECT_EQ(f.bits, 4);
    EXPECT_FALSE(f.symmetric);
    EXPECT_EQ(f.granularity, Granularity::Group);
    EXPECT_EQ(f.group_size, 128);
    EXPECT_FALSE(f.mse);

    auto d = QuantFormat::parse("INT3");  // defaults: per channel, asymmetric
    EXPECT_EQ(d.bits, 3);
    EXPECT_EQ(d.granularity, Granularity::Channel);
    EXPECT_FALSE(d.symmetric);
    EXPECT_EQ(d.name(), "int3-channel-asym");

    auto t = QuantFormat::parse("int8-token-sym");
    EXPECT_EQ(t.granularity, Granularity::Token);
    EXPECT_TRUE(t.symmetric);
    auto m = QuantFormat::parse("int2-tensor-sym-mse");
    EXPECT_EQ(m.granularity, Granularity::Tensor);
    EXPECT_TRUE(m.mse);
}

TEST(QuantFormat, ParsesMxAndFp8Names)
{
    auto a = QuantFormat::parse("mxint4-32");
    EXPECT_EQ(a.kind, FormatKind::Mx);
    EXPECT_EQ(a.element, MxElement::Int4);
    EXPECT_EQ(a.block_size, 32);
    EXPECT_EQ(a.rounding, qs::Rounding::Nearest);

    auto b = QuantFormat::parse("mxfp8-e5m2-128-even");
    EXPECT_EQ(b.element, MxElement::Fp8E5M2);
    EXPECT_EQ(b.block_size, 128);
    EXPECT_EQ(b.rounding, qs::Rounding::Even);

    EXPECT_EQ(QuantFormat::parse("mxfp4-16").element, MxElement::Fp4E2M1);
    EXPECT_EQ(QuantFormat::parse("mxfp4-e2m1-16"), QuantFormat::parse("mxfp4-16"));
    EXPECT_EQ(QuantFormat::parse("mxfp6-e2m3-64").element, MxElement::Fp6E2M3);

    auto c = QuantFormat::parse("fp8-e4m3");
    EXPECT_EQ(c.kind, FormatKind::Fp8);
    EXPECT_EQ(c.fp8, qs::Fp8Variant::E4M3);
    EXPECT_EQ(c.granularity, Granularity::Channel);
    EXPECT_EQ(QuantFormat::parse("fp8-e5m2-tensor").granularity, Granularity::Tensor);

    EXPECT_EQ(QuantFormat::parse("none").kind, FormatKind::None);
    EXPECT_EQ(QuantFormat::parse("fp32").kind, FormatKind::None);
    EXPECT_EQ(QuantFormat::parse("none"), QuantFormat{});
}

TEST(QuantFormat, CanonicalNamesRoundTrip)
{
    const std::vector<std::string> canonical = {"none",
                                                "int4-g128-asym",
                                                "int4-channel-sym",
                                                "int8-tensor-sym",
                                                "int8-token-sym",
                                                "int3-g64-asym-mse",
                                                "int2-channel-asym-mse",
                                                "mxint8-16",
                                                "mxint6-32",
                                                "mxint4-64",
                                                "mxint3-128",
                                                "mxint2-32-even",
                                                "mxfp8-e4m3-32",
                                                "mxfp8-e5m2-16-even",
                                                "mxfp6-e3m2-64",
                                                "mxfp6-e2m3-128",
                                                "mxfp4-32",
                                                "mxfp4-16-even",
                                                "fp8-e4m3-channel",
                                                "fp8-e4m3-tensor",
                                                "fp8-e5m2-channel",
                                                "fp8-e5m2-tensor"};
    for (const auto& name : canonical) {
        auto f = QuantFormat::parse(name);
        EXPECT_EQ(f.name(), name);
        EXPECT_EQ(QuantFormat::parse(f.name()), f) << name;
    }
    // Non-canonical spellings map to the canonical name.
    EXPECT_EQ(QuantFormat::parse("INT4-G128").name(), "int4-g128-asym");
    EXPECT_EQ(QuantFormat::parse("mxfp4-e2m1-32-nearest").name(), "mxfp4-32");
    EXPECT_EQ(QuantFormat::parse("fp8-e5m2").name(), "fp8-e5m2-channel");
    EXPECT_EQ(QuantFormat::parse("fp32").name(), "none");
    EXPECT_FALSE(QuantFormat::parse("mxint4-32") == QuantFormat::parse("mxint4-32-even"));
    EXPECT_FALSE(QuantFormat::parse("int4-g64") == QuantFormat::parse("int4-g128"));
}

TEST(QuantFormat, RejectsUnknownNames)
{
    const std::vector<std::string> bad = {"int9",           "int1",          "int4-g0",
                                          "int4-g",         "int4-sym-asym", "int4-g128-g64",
                                          "int4-foo",       "intx",          "mxint5-32",
                                          "mxint4-33",      "mxint4",        "mxint4-32-4",
                                          "mxfp8-32",       "mxfp8-e2m1-32", "mxfp6-e4m3-32",
                                          "mxfp4-e3m2-32",  "fp8",           "fp8-e3m4",
                                          "fp8-e4m3-group", "fp16",          "",
                                          "none-x",         "int4--g128"};
    for (const auto& name : bad) {
        try {
            QuantFormat::parse(name);
            ADD_FAILURE() << "accepted '" << name << "'";
        } catch (const qs::QsError& e) {
            EXPECT_EQ(std::string(e.what()),
                      "unknown quantization format '" + name +
                          "' (expected e.g. int4-g128-asym, mxint4-32, mxfp4-32, "
                          "fp8-e4m3-channel)");
        }
    }
}

TEST(QuantFormat, ElementBits)
{
    EXPECT_EQ(QuantFormat::parse("int4-g128").element_bits(), 4);
    EXPECT_EQ(QuantFormat::parse("mxint4-32").element_bits(), 4);
    EXPECT_EQ(QuantFormat::parse("mxint3-32").element_bits(), 3);
    EXPECT_EQ(QuantFormat::parse("mxfp4-32").element_bits(), 4);
    EXPECT_EQ(QuantFormat::parse("mxfp6-e3m2-32").element_bits(), 6);
    EXPECT_EQ(QuantFormat::parse("mxfp8-e4m3-32").element_bits(), 8);
    EXPECT_EQ(QuantFormat::parse("fp8-e5m2").element_bits(), 8);
    EXPECT_EQ(QuantFormat::parse("none").element_bits(), 16);
}

TEST(QuantFormat, StorageBitsByHand)
{
    const std::int64_t n = 4096;
    // INT: codes + fp16 scale (+ bits-bit zero point when asymmetric) per row and group.
    EXPECT_EQ(QuantFormat::parse("int4-g128-asym").storage_bits(n, n),
              n * n * 4 + n * (n / 128) * (16 + 4));
    EXPECT_DOUBLE_EQ(QuantFormat::parse("int4-g128-asym").bits_per_weight(n, n), 4.15625);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("int4-g128-sym").bits_per_weight(n, n), 4.125);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("int4-channel-sym").bits_per_weight(n, n),
                     4.0 + 16.0 / 4096.0);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("int8-channel-asym").bits_per_weight(n, 1024),
                     8.0 + 24.0 / 1024.0);
    EXPECT_EQ(QuantFormat::parse("int4-tensor-asym").storage_bits(10, 20), 10 * 20 * 4 + 20);
    // Partial last group: 300 columns in groups of 128 -> 3 groups per row.
    EXPECT_EQ(QuantFormat::parse("int3-g128-asym").storage_bits(2, 300), 2 * 300 * 3 + 2 * 3 * 19);

    // MX: codes + an 8-bit shared exponent per block along the input dimension.
    EXPECT_DOUBLE_EQ(QuantFormat::parse("mxint4-32").bits_per_weight(n, n), 4.25);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("mxfp4-32").bits_per_weight(n, n), 4.25);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("mxint8-128").bits_per_weight(n, n), 8.0625);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("mxfp6-e2m3-16").bits_per_weight(n, n), 6.5);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("mxint3-64").bits_per_weight(n, n), 3.125);
    // Partial block: 100 columns, blocks of 32 -> 4 exponents per row.
    EXPECT_EQ(QuantFormat::parse("mxint4-32").storage_bits(3, 100), 3 * 100 * 4 + 3 * 4 * 8);

    // FP8: codes + an fp32 scale per row (channel) or per tensor.
    EXPECT_DOUBLE_EQ(QuantFormat::parse("fp8-e4m3-channel").bits_per_weight(n, 1024),
                     8.0 + 32.0 / 1024.0);
    EXPECT_EQ(QuantFormat::parse("fp8-e5m2-tensor").storage_bits(64, 64), 64 * 64 * 8 + 32);

    // Not quantized: fp16.
    EXPECT_EQ(QuantFormat::parse("none").storage_bits(7, 9), 7 * 9 * 16);
    EXPECT_DOUBLE_EQ(QuantFormat::parse("none").bits_per_weight(7, 9), 16.0);
}

}  // namespace
