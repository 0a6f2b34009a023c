// safetensors reader/writer, TensorStore and atomic writes. Every malformed-file case gets its
// own test: each asserts a one-line QsError naming the file and the specific problem.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/io/safetensors_reader.h"
#include "core/io/safetensors_writer.h"
#include "core/io/tensor_store.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

namespace fs = std::filesystem;
using qs::DType;
using qs::QsError;
using qs::test::TempDir;

namespace {

// 8-byte little-endian length + header text + data, with no validation at all.
void write_raw(const std::string& path, const std::string& header, std::size_t data_bytes,
               std::uint64_t length_override = UINT64_MAX)
{
    std::uint64_t n = length_override == UINT64_MAX ? header.size() : length_override;
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 8; ++i)
        out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << header;
    out << std::string(data_bytes, '\0');
}

// Asserts that opening path fails with a one-line message containing path and phrase.
void expect_open_error(const std::string& path, const std::string& phrase)
{
    try {
        qs::SafetensorsReader reader(path);
        FAIL() << "no error for " << path;
    } catch (const QsError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(path + ": "), std::string::npos) << message;
        EXPECT_NE(message.find(phrase), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

template <typename F>
std::string error_of(F&& f)
{
    try {
        f();
    } catch (const QsError& e) {
        return e.what();
    }
    return "";
}

std::vector<std::uint8_t> u16_bytes(const std::vector<std::uint16_t>& v)
{
    std::vector<std::uint8_t> out;
    for (auto x : v) {
        out.push_back(static_cast<std::uint8_t>(x & 0xff));
        out.push_back(static_cast<std::uint8_t>(x >> 8));
    }
    return out;
}

std::uint16_t u16_at(const std::uint8_t* p, std::size_t i)
{
    return p[2 * i] | (p[2 * i + 1] << 8);
}

float bf16_to_float(std::uint16_t h)
{
    std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Normal numbers and zero only: enough for the values used here.
float f16_to_float(std::uint16_t h)
{
    const int exponent = (h >> 10) & 0x1f;
    const float mantissa = 1.0f + static_cast<float>(h & 0x3ff) / 1024.0f;
    const float value = exponent == 0 ? 0.0f : std::ldexp(mantissa, exponent - 15);
    return (h & 0x8000) ? -value : value;
}

std::size_t files_in(const std::string& dir)
{
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir))
        ++n;
    return n;
}

}  // namespace

// ---- round trips --------------------------------------------------------------------------

TEST(SafetensorsRoundTrip, F32F16BF16ValuesAndMetadata)
{
    TempDir tmp;
    const std::string path = tmp.file("t.safetensors");
    const std::vector<float> f32 = {1.5f, -2.25f, 0.0f, 3e-3f, 1e6f, -7.0f};
    qs::SafetensorsWriter writer;
    writer.add_f32("b.f32", {2, 3}, f32.data());
    // 1.0, -2.0, 0.5, 65504 (max half) in F16; 1.0, -2.0, 0.5, 3.0 in BF16.
    writer.add("a.f16", DType::F16, {4}, u16_bytes({0x3C00, 0xC000, 0x3800, 0x7BFF}));
    writer.add("c.bf16", DType::BF16, {2, 2}, u16_bytes({0x3F80, 0xC000, 0x3F00, 0x4040}));
    writer.add("d.empty", DType::F32, {0, 4}, {});
    writer.set_metadata("format", "pt");
    writer.write(path);

    qs::SafetensorsReader reader(path);
    ASSERT_EQ(reader.tensors().size(), 4u);
    EXPECT_EQ(reader.metadata().at("format"), "pt");

    const auto v32 = reader.view("b.f32");
    EXPECT_EQ(v32.info->dtype, DType::F32);
    EXPECT_EQ(v32.info->shape, (std::vector<std::int64_t>{2, 3}));
    ASSERT_EQ(v32.size_bytes, f32.size() * 4);
    std::vector<float> back(f32.size());
    std::memcpy(back.data(), v32.data, v32.size_bytes);
    EXPECT_EQ(back, f32);

    const auto v16 = reader.view("a.f16");
    EXPECT_EQ(v16.info->dtype, DType::F16);
    const std::vector<float> want16 = {1.0f, -2.0f, 0.5f, 65504.0f};
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_EQ(f16_to_float(u16_at(v16.data, i)), want16[i]);

    const auto vbf = reader.view("c.bf16");
    EXPECT_EQ(vbf.info->dtype, DType::BF16);
    EXPECT_EQ(vbf.info->numel(), 4);
    const std::vector<float> wantbf = {1.0f, -2.0f, 0.5f, 3.0f};
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_EQ(bf16_to_float(u16_at(vbf.data, i)), wantbf[i]);

    EXPECT_EQ(reader.info("d.empty").numel(), 0);
    EXPECT_EQ(reader.view("d.empty").size_bytes, 0u);
    reader.release("b.f32");  // must be harmless; the view's bytes stay readable (re-faulted)
    std::memcpy(back.data(), reader.view("b.f32").data, v32.size_bytes);
    EXPECT_EQ(back, f32);
}

TEST(SafetensorsRoundTrip, HeaderIsSortedContiguousAndPaddedTo8)
{
    TempDir tmp;
    const std::string path = tmp.file("t.safetensors");
    const float one[3] = {1, 2, 3};
    qs::SafetensorsWriter writer;
    writer.add_f32("zeta", {3}, one);
    writer.add_f32("alpha", {1}, one);
    writer.write(path);

    const auto bytes = qs::test::read_raw<std::uint8_t>(path);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | bytes[i];
    EXPECT_EQ(n % 8, 0u);
    EXPECT_EQ(bytes.size(), 8 + n + 16);
    const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
    EXPECT_LT(header.find("alpha"), header.find("zeta"));
    const auto json = nlohmann::json::parse(header);
    EXPECT_EQ(json["alpha"]["data_offsets"], nlohmann::json({0, 4}));
    EXPECT_EQ(json["zeta"]["data_offsets"], nlohmann::json({4, 16}));
    EXPECT_EQ(header.find_last_not_of(' ') + 1, header.find_last_of('}') + 1);
}

TEST(SafetensorsWriter, RejectsByteSizeMismatch)
{
    qs::SafetensorsWriter writer;
    const std::string message = error_of([&] {
        writer.add("w", DType::F32, {2, 2}, std::vector<std::uint8_t>(12));
    });
    EXPECT_NE(message.find("tensor 'w'"), std::string::npos) << message;
    EXPECT_NE(message.find("needs 16"), std::string::npos) << message;
}

// Borrowed tensors (quantize_model's layers, written without a copy) give the same file bytes
// as copied ones, and the writer reads them only in write().
TEST(SafetensorsWriter, BorrowedBytesWriteTheSameFileAsCopiedOnes)
{
    TempDir tmp;
    std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
    const std::vector<std::uint16_t> b = {0x3c00, 0xc000, 0x7bff};
    qs::SafetensorsWriter copied, borrowed;
    copied.add_f32("a", {2, 3}, a.data());
    copied.add("b", DType::F16, {3},
               std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(b.data()),
                                         reinterpret_cast<const std::uint8_t*>(b.data()) + 6));
    borrowed.add_borrowed("a", DType::F32, {2, 3}, a.data());
    borrowed.add_borrowed("b", DType::F16, {3}, b.data());
    copied.write(tmp.file("copied.safetensors"));
    a[0] = 99.0f;  // changed after add_borrowed, before write: the file must have the new value
    borrowed.write(tmp.file("borrowed.safetensors"));
    auto bytes = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    std::string expected = bytes(tmp.file("copied.safetensors"));
    const std::string actual = bytes(tmp.file("borrowed.safetensors"));
    ASSERT_EQ(actual.size(), expected.size());
    EXPECT_NE(actual, expected);
    const float ninety_nine = 99.0f;
    const auto at = expected.size() - 6 - 24;  // "a" (24 bytes) precedes "b" (6) in name order
    std::memcpy(expected.data() + at, &ninety_nine, sizeof ninety_nine);
    EXPECT_EQ(actual, expected);
    EXPECT_THROW(borrowed.add_borrowed("c", DType::F32, {2}, nullptr), qs::QsError);
    EXPECT_THROW(borrowed.add_borrowed("a", DType::F32, {1}, a.data()), qs::QsError);
}

TEST(SafetensorsReader, UnknownTensorNamesFileAndTensor)
{
    TempDir tmp;
    const std::string path = tmp.file("t.safetensors");
    const float one = 1.0f;
    qs::SafetensorsWriter writer;
    writer.add_f32("x", {1}, &one);
    writer.write(path);
    qs::SafetensorsReader reader(path);
    const std::string message = error_of([&] { reader.info("nope"); });
    EXPECT_NE(message.find(path + ": no tensor 'nope'"), std::string::npos) << message;
}

// ---- malformed files: one test per problem ------------------------------------------------

// Each test writes one malformed file at path and expects a specific one-line error.
class SafetensorsBadInput : public ::testing::Test {
protected:
    TempDir tmp;
    const std::string path = tmp.file("t.safetensors");
};

TEST_F(SafetensorsBadInput, FileShorterThan8Bytes)
{
    std::ofstream(path, std::ios::binary) << "abc";
    expect_open_error(path, "file too short");
}

TEST_F(SafetensorsBadInput, EmptyFile)
{
    std::ofstream(path, std::ios::binary).flush();
    expect_open_error(path, "file too short");
}

TEST_F(SafetensorsBadInput, HeaderLengthPastEndOfFile)
{
    write_raw(path, "{}", 0, 1000);
    expect_open_error(path, "header length 1000 runs past the end of the file");
}

TEST_F(SafetensorsBadInput, HugeHeaderLength)
{
    write_raw(path, "{}", 0, UINT64_MAX - 1);
    expect_open_error(path, "runs past the end of the file");
}

TEST_F(SafetensorsBadInput, HeaderNotJson)
{
    write_raw(path, "{\"a\": [1, 2", 0);
    expect_open_error(path, "header is not valid JSON");
}

TEST_F(SafetensorsBadInput, HeaderNotObject)
{
    write_raw(path, "[1, 2, 3]", 0);
    expect_open_error(path, "header is not a JSON object");
}

TEST_F(SafetensorsBadInput, EntryNotObject)
{
    write_raw(path, R"({"w": 5})", 0);
    expect_open_error(path, "tensor 'w': header entry is not an object");
}

TEST_F(SafetensorsBadInput, MissingDtype)
{
    write_raw(path, R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4);
    expect_open_error(path, "tensor 'w': missing 'dtype'");
}

TEST_F(SafetensorsBadInput, MissingShape)
{
    write_raw(path, R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", 4);
    expect_open_error(path, "tensor 'w': missing 'shape'");
}

TEST_F(SafetensorsBadInput, MissingDataOffsets)
{
    write_raw(path, R"({"w": {"dtype": "F32", "shape": [1]}})", 4);
    expect_open_error(path, "tensor 'w': missing 'data_offsets'");
}

TEST_F(SafetensorsBadInput, UnknownDtype)
{
    write_raw(path, R"({"w": {"dtype": "F12", "shape": [1], "data_offsets": [0, 4]}})", 4);
    expect_open_error(path, "tensor 'w': unknown dtype 'F12'");
}

TEST_F(SafetensorsBadInput, NegativeDimension)
{
    write_raw(path, R"({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 4]}})", 4);
    expect_open_error(path, "tensor 'w': negative dimension -1");
}

TEST_F(SafetensorsBadInput, DataOffsetsPastDataBuffer)
{
    write_raw(path, R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8);
    expect_open_error(path, "tensor 'w': data_offsets [0, 16] outside the data buffer (8 bytes)");
}

TEST_F(SafetensorsBadInput, DataOffsetsBeginAfterEnd)
{
    write_raw(path, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8);
    expect_open_error(path, "tensor 'w': data_offsets begin 8 > end 4");
}

TEST_F(SafetensorsBadInput, NegativeDataOffset)
{
    write_raw(path, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", 8);
    expect_open_error(path, "tensor 'w': 'data_offsets' must be non-negative integers");
}

TEST_F(SafetensorsBadInput, ByteSizeDoesNotMatchShape)
{
    write_raw(path, R"({"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 8]}})", 8);
    expect_open_error(path, "tensor 'w': byte size 8 does not match dtype BF16 x shape [2, 3]");
}

TEST_F(SafetensorsBadInput, OverlappingTensors)
{
    write_raw(path,
              R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
              R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]},)"
              R"( "c": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
              20);
    expect_open_error(path, "tensors 'a' and 'c' overlap");
}

TEST_F(SafetensorsBadInput, MetadataNotStringMap)
{
    write_raw(path, R"({"__metadata__": {"format": 3}})", 0);
    expect_open_error(path, "'__metadata__' value of 'format' is not a string");
}

TEST_F(SafetensorsBadInput, MetadataNotObject)
{
    write_raw(path, R"({"__metadata__": "pt"})", 0);
    expect_open_error(path, "'__metadata__' is not a map of strings");
}

TEST_F(SafetensorsBadInput, MissingFile)
{
    expect_open_error(tmp.file("absent.safetensors"), "cannot open");
}

// ---- TensorStore --------------------------------------------------------------------------

namespace {

// Two shards: a,b in shard 1 and c in shard 2, plus the index.
void write_sharded(const TempDir& tmp)
{
    const float values[4] = {1, 2, 3, 4};
    qs::SafetensorsWriter first, second;
    first.add_f32("a", {2}, values);
    first.add_f32("b", {2, 2}, values);
    second.add_f32("c", {1}, values + 3);
    first.write(tmp.file("model-00001-of-00002.safetensors"));
    second.write(tmp.file("model-00002-of-00002.safetensors"));
    qs::write_safetensors_index(tmp.path(),
                                {{"a", "model-00001-of-00002.safetensors"},
                                 {"b", "model-00001-of-00002.safetensors"},
                                 {"c", "model-00002-of-00002.safetensors"}},
                                28);
}

}  // namespace

TEST(SafetensorsStore, ShardedIndex)
{
    TempDir tmp;
    write_sharded(tmp);
    const auto index =
        nlohmann::json::parse(std::ifstream(tmp.file("model.safetensors.index.json")));
    EXPECT_EQ(index["metadata"]["total_size"], 28);

    auto store = qs::TensorStore::open_dir(tmp.path());
    EXPECT_EQ(store->names(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(store->files().size(), 2u);
    EXPECT_EQ(store->location(), tmp.path());
    EXPECT_EQ(store->info("b").shape, (std::vector<std::int64_t>{2, 2}));
    float c = 0;
    std::memcpy(&c, store->view("c").data, 4);
    EXPECT_EQ(c, 4.0f);
    store->release("b");
    const std::string message = error_of([&] { store->info("zz"); });
    EXPECT_NE(message.find(tmp.path() + ": no tensor 'zz'"), std::string::npos) << message;
}

TEST(SafetensorsStore, SingleFileInDirectory)
{
    TempDir tmp;
    const float v = 2.0f;
    qs::SafetensorsWriter writer;
    writer.add_f32("x", {1}, &v);
    writer.write(tmp.file("model.safetensors"));
    auto store = qs::TensorStore::open_dir(tmp.path());
    EXPECT_TRUE(store->contains("x"));
    EXPECT_EQ(store->files(), std::vector<std::string>{tmp.file("model.safetensors")});
    auto single = qs::TensorStore::open_file(tmp.file("model.safetensors"));
    EXPECT_EQ(single->names(), std::vector<std::string>{"x"});
}

TEST(SafetensorsStore, EmptyDirectory)
{
    TempDir tmp;
    const std::string message = error_of([&] { qs::TensorStore::open_dir(tmp.path()); });
    EXPECT_EQ(message, tmp.path() + ": no model.safetensors or model.safetensors.index.json");
}

TEST(SafetensorsStore, MissingShardNamesIndex)
{
    TempDir tmp;
    write_sharded(tmp);
    fs::remove(tmp.file("model-00002-of-00002.safetensors"));
    const std::string message = error_of([&] { qs::TensorStore::open_dir(tmp.path()); });
    EXPECT_NE(message.find(tmp.file("model.safetensors.index.json") + ": "), std::string::npos)
        << message;
    EXPECT_NE(message.find("shard 'model-00002-of-00002.safetensors'"), std::string::npos)
        << message;
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

TEST(SafetensorsStore, TensorMappedToShardLackingIt)
{
    TempDir tmp;
    write_sharded(tmp);
    qs::write_safetensors_index(
        tmp.path(),
        {{"a", "model-00001-of-00002.safetensors"}, {"c", "model-00001-of-00002.safetensors"}}, 12);
    const std::string message = error_of([&] { qs::TensorStore::open_dir(tmp.path()); });
    EXPECT_NE(message.find(tmp.file("model.safetensors.index.json") + ": "), std::string::npos)
        << message;
    EXPECT_NE(message.find("tensor 'c' is mapped to 'model-00001-of-00002.safetensors'"),
              std::string::npos)
        << message;
}

TEST(SafetensorsStore, IndexNotJson)
{
    TempDir tmp;
    std::ofstream(tmp.file("model.safetensors.index.json")) << "{weight_map";
    const std::string message = error_of([&] { qs::TensorStore::open_dir(tmp.path()); });
    EXPECT_EQ(message, tmp.file("model.safetensors.index.json") + ": not valid JSON");
}

TEST(SafetensorsStore, CorruptShardNamesShard)
{
    TempDir tmp;
    write_sharded(tmp);
    write_raw(tmp.file("model-00002-of-00002.safetensors"), "nope", 0);
    const std::string message = error_of([&] { qs::TensorStore::open_dir(tmp.path()); });
    EXPECT_NE(message.find(tmp.file("model-00002-of-00002.safetensors") + ": header is not"),
              std::string::npos)
        << message;
}

// ---- atomic writes ------------------------------------------------------------------------

TEST(SafetensorsAtomicWrite, MissingDirectoryThrowsNamingPath)
{
    TempDir tmp;
    const std::string path = tmp.file("no/such/dir/model.safetensors");
    const float v = 1.0f;
    qs::SafetensorsWriter writer;
    writer.add_f32("x", {1}, &v);
    const std::string message = error_of([&] { writer.write(path); });
    EXPECT_NE(message.find(path + ": "), std::string::npos) << message;
    EXPECT_EQ(files_in(tmp.path()), 0u);
}

TEST(SafetensorsAtomicWrite, WriterExceptionRemovesTempFile)
{
    TempDir tmp;
    const std::string path = tmp.file("out.txt");
    const std::string message = error_of([&] {
        qs::write_file_atomically(path, [](std::ostream& out) {
            out << "partial";
            throw std::runtime_error("disk on fire");
        });
    });
    EXPECT_EQ(message, path + ": write failed: disk on fire");
    EXPECT_EQ(files_in(tmp.path()), 0u);
}

TEST(SafetensorsAtomicWrite, RenameFailureRemovesTempFile)
{
    TempDir tmp;
    const std::string path = tmp.file("target");
    fs::create_directories(path + "/child");  // a non-empty directory cannot be renamed over
    const std::string message =
        error_of([&] { qs::write_file_atomically(path, [](std::ostream& out) { out << "x"; }); });
    EXPECT_NE(message.find(path + ": cannot replace file"), std::string::npos) << message;
    EXPECT_EQ(files_in(tmp.path()), 1u);
}

TEST(SafetensorsAtomicWrite, NewFileGetsUmaskPermissionsNotMkstemps0600)
{
    TempDir tmp;
    const std::string path = tmp.file("new.txt");
    qs::write_file_atomically(path, [](std::ostream& out) { out << "x"; });
    const mode_t mask = ::umask(022);
    ::umask(mask);
    const auto perms = static_cast<unsigned>(fs::status(path).permissions());
    EXPECT_EQ(perms, 0666u & ~static_cast<unsigned>(mask));
}

TEST(SafetensorsAtomicWrite, ReplacesExistingFile)
{
    TempDir tmp;
    const std::string path = tmp.file("out.txt");
    std::ofstream(path) << "old contents";
    qs::write_file_atomically(path, [](std::ostream& out) { out << "new"; });
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "new");
    EXPECT_EQ(files_in(tmp.path()), 1u);
}
