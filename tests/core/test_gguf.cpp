// GGUF container: write -> read round trips of every metadata and tensor type, the byte layout
// of a tiny file worked out by hand, atomic writes, and one test per malformed-file case
// asserting a QsError that names the file and the problem.
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/export/gguf_blocks.h"
#include "core/export/gguf_reader.h"
#include "core/export/gguf_writer.h"
#include "core/util/error.h"
#include "tests/core/gguf_test_support.h"
#include "tests/core/test_support.h"

namespace fs = std::filesystem;
using namespace qs::gguf;
using qs::QsError;
using qs::test::expect_file_error;
using qs::test::pattern;
using qs::test::poke;
using qs::test::read_bytes;
using qs::test::TempDir;
using qs::test::write_bytes;

// --- the container ----------------------------------------------------------------------

namespace {

// One uint32 key "a" = 7 and one F32 tensor "t" of one element, laid out by hand:
//   0 magic, 4 version, 8 tensor count, 16 kv count, 24 key length, 32 "a", 33 value type,
//   37 value, 41 name length, 49 "t", 50 n_dims, 54 dim, 62 type, 66 offset, 74 padding,
//   96 data (4 bytes), 100 padding to 128.
constexpr std::size_t kValueTypeAt = 33;
constexpr std::size_t kTensorTypeAt = 62;
constexpr std::size_t kTensorOffsetAt = 66;

std::string write_tiny(const TempDir& dir, const std::string& name)
{
    GgufWriter w;
    w.set("a", std::uint32_t{7});
    w.add_tensor("t", {1}, TensorType::F32,
                 quantize_blocks(TensorType::F32, std::vector<float>{2.5f}));
    const std::string path = dir.file(name);
    w.write(path);
    return path;
}

}  // namespace

TEST(GgufContainer, TinyFileHasTheHandComputedLayout)
{
    TempDir dir;
    const auto bytes = read_bytes(write_tiny(dir, "tiny.gguf"));
    ASSERT_EQ(bytes.size(), 128u);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "GGUF");
    auto u32 = [&](std::size_t at) {
        std::uint32_t v;
        std::memcpy(&v, &bytes[at], 4);
        return v;
    };
    auto u64 = [&](std::size_t at) {
        std::uint64_t v;
        std::memcpy(&v, &bytes[at], 8);
        return v;
    };
    EXPECT_EQ(u32(4), 3u);
    EXPECT_EQ(u64(8), 1u);
    EXPECT_EQ(u64(16), 1u);
    EXPECT_EQ(u64(24), 1u);
    EXPECT_EQ(bytes[32], 'a');
    EXPECT_EQ(u32(kValueTypeAt), 4u);  // uint32
    EXPECT_EQ(u32(37), 7u);
    EXPECT_EQ(u64(41), 1u);
    EXPECT_EQ(bytes[49], 't');
    EXPECT_EQ(u32(50), 1u);
    EXPECT_EQ(u64(54), 1u);
    EXPECT_EQ(u32(kTensorTypeAt), 0u);  // F32
    EXPECT_EQ(u64(kTensorOffsetAt), 0u);
    for (std::size_t i = 74; i < 96; ++i)
        EXPECT_EQ(bytes[i], 0) << i;
    float v;
    std::memcpy(&v, &bytes[96], 4);
    EXPECT_EQ(v, 2.5f);
}

TEST(GgufContainer, RoundTripsEveryValueAndTensorType)
{
    GgufWriter w;
    w.set("u8", std::uint8_t{200});
    w.set("i8", std::int8_t{-100});
    w.set("u16", std::uint16_t{60000});
    w.set("i16", std::int16_t{-30000});
    w.set("u32", std::uint32_t{4000000000u});
    w.set("i32", std::int32_t{-2000000000});
    w.set("f32", 1.5f);
    w.set("bool_t", true);
    w.set("bool_f", false);
    w.set("str", "héllo\nworld");
    w.set("empty_str", "");
    w.set("u64", std::uint64_t{18000000000000000000ull});
    w.set("i64", std::int64_t{-9000000000000000000ll});
    w.set("f64", 2.25);
    w.set("arr_str", Value::strings({"<s>", "", "▁the"}));
    w.set("arr_f32", Value::floats({0.0f, -1.0f, 3.5f}));
    w.set("arr_i32", Value::int32s({1, -2, 3}));
    w.set("arr_bool", Value::make_array(ValueType::Bool, {true, false}));
    w.set("arr_u8", Value::make_array(ValueType::UInt8, {std::uint8_t{1}, std::uint8_t{255}}));
    w.set("arr_u64", Value::make_array(ValueType::UInt64, {std::uint64_t{1} << 40}));
    w.set("arr_empty", Value::make_array(ValueType::Float64, {}));
    w.set("u32", std::uint32_t{4000000001u});  // replacing keeps the position

    std::mt19937 rng(11);
    std::normal_distribution<float> dist;
    std::vector<float> x(64 * 4);
    for (auto& v : x)
        v = dist(rng);
    struct Expect {
        std::string name;
        std::vector<std::uint64_t> dims;
        TensorType type;
        std::vector<std::uint8_t> bytes;
    };
    std::vector<Expect> expect;
    for (TensorType t :
         {TensorType::F32, TensorType::F16, TensorType::Q8_0, TensorType::Q4_0, TensorType::MXFP4})
        expect.push_back(
            {std::string("w.") + tensor_type_name(t), {64, 4}, t, quantize_blocks(t, x)});
    for (TensorType t : {TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K,
                         TensorType::Q6_K})  // any bytes are a valid K-quant block
        expect.push_back({std::string("k.") + tensor_type_name(t),
                          {256, 2, 1},
                          t,
                          pattern(*tensor_bytes(t, 512), 20)});
    for (const auto& e : expect)
        w.add_tensor(e.name, e.dims, e.type, e.bytes);
    // One tensor produced only when the file is written (streaming).
    w.add_tensor("streamed", {32}, TensorType::Q8_0,
                 [&] { return quantize_blocks(TensorType::Q8_0, std::span(x).first(32)); });

    TempDir dir;
    const std::string path = dir.file("all.gguf");
    w.write(path);
    const GgufReader r(path);
    EXPECT_EQ(r.version(), 3u);
    EXPECT_EQ(r.alignment(), 32u);
    ASSERT_EQ(r.metadata().size(), w.metadata().size());
    for (std::size_t i = 0; i < w.metadata().size(); ++i) {
        EXPECT_EQ(r.metadata()[i].first, w.metadata()[i].first);
        EXPECT_TRUE(r.metadata()[i].second == w.metadata()[i].second) << r.metadata()[i].first;
    }
    EXPECT_EQ(r.get("u32").as_int(), 4000000001);
    EXPECT_EQ(r.metadata()[4].first, "u32");
    EXPECT_EQ(r.get("str").as_string(), "héllo\nworld");
    EXPECT_EQ(r.get("f64").as_double(), 2.25);
    EXPECT_TRUE(r.get("bool_t").as_bool());
    EXPECT_THROW(r.get("u64").as_int(), QsError);  // above INT64_MAX
    EXPECT_THROW(r.get("str").as_int(), QsError);
    expect_file_error([&] { r.get("nope"); }, path, "missing key 'nope'");

    ASSERT_EQ(r.tensors().size(), expect.size() + 1);
    for (const auto& e : expect) {
        const TensorInfo& t = r.tensor(e.name);
        EXPECT_EQ(t.dims, e.dims);
        EXPECT_EQ(t.type, e.type);
        EXPECT_EQ(t.offset % 32, 0u);
        const auto data = r.tensor_data(t);
        EXPECT_EQ(std::vector<std::uint8_t>(data.begin(), data.end()), e.bytes) << e.name;
        EXPECT_EQ(r.dequantize(t), dequantize_blocks(e.type, e.bytes, t.n_elements));
    }
    EXPECT_EQ(r.dequantize(r.tensor("w.f32")), x);
    const auto streamed = r.tensor_data(r.tensor("streamed"));
    EXPECT_EQ(std::vector<std::uint8_t>(streamed.begin(), streamed.end()),
              quantize_blocks(TensorType::Q8_0, std::span(x).first(32)));
    expect_file_error([&] { r.tensor("nope"); }, path, "no tensor 'nope'");
}

TEST(GgufContainer, HonoursACustomAlignment)
{
    GgufWriter w;
    w.set(kAlignmentKey, std::uint32_t{64});
    w.add_tensor("a", {3}, TensorType::F32,
                 quantize_blocks(TensorType::F32, std::vector<float>(3, 1.0f)));
    w.add_tensor("b", {32}, TensorType::Q4_0,
                 quantize_blocks(TensorType::Q4_0, std::vector<float>(32, 1.0f)));
    TempDir dir;
    w.write(dir.file("a64.gguf"));
    const GgufReader r(dir.file("a64.gguf"));
    EXPECT_EQ(r.alignment(), 64u);
    EXPECT_EQ(r.data_offset() % 64, 0u);
    EXPECT_EQ(r.tensor("a").offset, 0u);
    EXPECT_EQ(r.tensor("b").offset, 64u);
    EXPECT_EQ(r.dequantize(r.tensor("b")), std::vector<float>(32, 1.0f));
    EXPECT_THROW(w.set(kAlignmentKey, std::uint32_t{48}), QsError);
    EXPECT_THROW(w.set(kAlignmentKey, std::int32_t{64}), QsError);
}

TEST(GgufContainer, WriterRefusesBadTensors)
{
    GgufWriter w;
    w.add_tensor("x", {32}, TensorType::Q8_0, std::vector<std::uint8_t>(34));
    EXPECT_THROW(w.add_tensor("x", {32}, TensorType::Q8_0, std::vector<std::uint8_t>(34)), QsError);
    EXPECT_THROW(w.add_tensor("y", {32}, TensorType::Q8_0, std::vector<std::uint8_t>(33)), QsError);
    EXPECT_THROW(w.add_tensor("z", {16, 2}, TensorType::Q8_0, std::vector<std::uint8_t>(34)),
                 QsError);
    EXPECT_THROW(w.add_tensor("v", {1, 1, 1, 1, 1}, TensorType::F32, std::vector<std::uint8_t>(4)),
                 QsError);
    EXPECT_THROW(
        w.add_tensor(std::string(64, 'n'), {1}, TensorType::F32, std::vector<std::uint8_t>(4)),
        QsError);
    EXPECT_THROW(w.set("bad", Value::make_array(ValueType::Int32, {1.0f})), QsError);
}

TEST(GgufContainer, FailedWriteLeavesNoFile)
{
    TempDir dir;
    GgufWriter w;
    w.set("k", "v");
    w.add_tensor("ok", {32}, TensorType::F16, std::vector<std::uint8_t>(64));
    w.add_tensor("cancelled", {32}, TensorType::F16,
                 []() -> std::vector<std::uint8_t> { throw QsError("cancelled by the user"); });
    EXPECT_THROW(w.write(dir.file("out.gguf")), QsError);
    EXPECT_TRUE(fs::is_empty(dir.path()));  // neither the target nor a temporary file
    // A producer that returns the wrong size is refused the same way, naming the file.
    GgufWriter w2;
    w2.add_tensor("short", {32}, TensorType::F16, [] { return std::vector<std::uint8_t>(10); });
    expect_file_error([&] { w2.write(dir.file("out.gguf")); }, dir.file("out.gguf"),
                      "tensor 'short' produced 10 bytes, expected 64");
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

// --- malformed files ----------------------------------------------------------------------

TEST(GgufReaderErrors, BadMagic)
{
    TempDir dir;
    const std::string path = dir.file("bad.gguf");
    auto bytes = read_bytes(write_tiny(dir, "tiny.gguf"));
    bytes[0] = 'X';
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "bad magic");
    write_bytes(path, {'G', 'G'});
    expect_file_error([&] { GgufReader r(path); }, path, "not a GGUF file");
    write_bytes(path, {});
    expect_file_error([&] { GgufReader r(path); }, path, "not a GGUF file");
}

TEST(GgufReaderErrors, UnsupportedVersion)
{
    TempDir dir;
    const std::string path = dir.file("v.gguf");
    auto bytes = read_bytes(write_tiny(dir, "tiny.gguf"));
    poke<std::uint32_t>(bytes, 4, 4);
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "unsupported GGUF version 4");
    poke<std::uint32_t>(bytes, 4, 0x03000000);
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "big-endian");
    poke<std::uint32_t>(bytes, 4, 2);  // v2 has the same layout and is accepted
    write_bytes(path, bytes);
    EXPECT_EQ(GgufReader(path).version(), 2u);
}

TEST(GgufReaderErrors, EveryTruncationIsReported)
{
    TempDir dir;
    const auto bytes = read_bytes(write_tiny(dir, "tiny.gguf"));
    const std::string path = dir.file("cut.gguf");
    for (std::size_t n = 4; n < 100; ++n) {  // 100: the data ends there; the rest is padding
        write_bytes(path, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + n));
        const std::string problem = n < 74 ? "truncated" : "out of range";
        expect_file_error([&] { GgufReader r(path); }, path, problem);
    }
    write_bytes(path, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 100));
    EXPECT_EQ(GgufReader(path).dequantize(GgufReader(path).tensor("t")), std::vector<float>{2.5f});
}

TEST(GgufReaderErrors, OffsetOutOfRangeOrMisaligned)
{
    TempDir dir;
    const std::string path = dir.file("off.gguf");
    auto bytes = read_bytes(write_tiny(dir, "tiny.gguf"));
    poke<std::uint64_t>(bytes, kTensorOffsetAt,
                        32);  // data section is 32 bytes: [32, 36) is outside
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path,
                      "tensor 't' data [32, 36) is out of range");
    poke<std::uint64_t>(bytes, kTensorOffsetAt, ~std::uint64_t{0} - 31);  // would wrap around
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "out of range");
    poke<std::uint64_t>(bytes, kTensorOffsetAt, 4);
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "not a multiple of the alignment 32");
}

TEST(GgufReaderErrors, UnknownTypesAndCorruptCounts)
{
    TempDir dir;
    const std::string path = dir.file("type.gguf");
    const auto good = read_bytes(write_tiny(dir, "tiny.gguf"));
    auto bytes = good;
    poke<std::uint32_t>(bytes, kTensorTypeAt, 99);
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path,
                      "tensor 't' has unknown or unsupported ggml type 99");
    bytes = good;
    poke<std::uint32_t>(bytes, kValueTypeAt, 13);
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "key 'a' has unknown value type 13");
    bytes = good;
    poke<std::uint64_t>(bytes, 16, std::uint64_t{1} << 60);  // absurd key/value count
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "truncated");
    bytes = good;
    poke<std::uint64_t>(bytes, 24, std::uint64_t{1} << 40);  // absurd key length
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "truncated");
    bytes = good;
    poke<std::uint32_t>(bytes, 50, 5);  // five dimensions
    write_bytes(path, bytes);
    expect_file_error([&] { GgufReader r(path); }, path, "5 dimensions");
}
