// Import of other tools' quantized checkpoints: tiny Llama checkpoints are quantized here
// (round-to-nearest per group), packed with the committed codecs and written the way AutoGPTQ,
// GPTQModel, AutoAWQ, llm-compressor and llama.cpp write them; import_checkpoint must give a
// float checkpoint that CausalLM opens, whose weights equal the codecs' dequantized values bit
// for bit and whose forward pass equals that of a float checkpoint holding those values.
// Errors name the file and the problem; a failed import leaves nothing under the target name.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/export/awq_packing.h"
#include "core/export/checkpoint_export.h"
#include "core/export/bit_packing.h"
#include "core/export/compressed_tensors_packing.h"
#include "core/export/gptq_packing.h"
#include "core/export/import_checkpoint.h"
#include "core/export/import_quantized_linear.h"
#include "core/export/import_tensor_writer.h"
#include "core/io/safetensors_writer.h"
#include "core/io/tensor_torch.h"
#include "core/model/causal_lm.h"
#include "core/quant/recipe.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

namespace fs = std::filesystem;
using test::SyntheticCheckpoint;

constexpr std::int64_t kGroupSize = 16;

bool is_linear(const std::string& name)
{
    return name.find("_proj.weight") != std::string::npos && name.rfind("model.layers.", 0) == 0;
}

// Asymmetric round-to-nearest per (row, group) of a float weight; zero points in
// [min_zero, 2^bits - 1]. g_idx (optional) scatters the columns over the groups (act-order).
IntQuantizedLinear quantize_rtn(const torch::Tensor& w, int bits, std::int32_t min_zero,
                                std::vector<std::int32_t> g_idx = {})
{
    IntQuantizedLinear q;
    q.out_features = w.size(0);
    q.in_features = w.size(1);
    q.bits = bits;
    q.group_size = kGroupSize;
    q.g_idx = std::move(g_idx);
    const std::int64_t groups = q.groups();
    const std::int32_t max_code = (1 << bits) - 1;
    auto values = w.contiguous();
    const float* x = values.data_ptr<float>();
    q.codes.resize(static_cast<std::size_t>(q.out_features * q.in_features));
    q.scales.resize(static_cast<std::size_t>(q.out_features * groups));
    q.zeros.resize(q.scales.size());
    for (std::int64_t o = 0; o < q.out_features; ++o)
        for (std::int64_t g = 0; g < groups; ++g) {
            float lo = 0.0f, hi = 0.0f;
            for (std::int64_t c = 0; c < q.in_features; ++c)
                if (q.group_of(c) == g) {
                    lo = std::min(lo, x[o * q.in_features + c]);
                    hi = std::max(hi, x[o * q.in_features + c]);
                }
            const std::uint16_t scale_bits = float_to_fp16_bits((hi - lo) / float(max_code));
            const float scale = fp16_bits_to_float(scale_bits);
            const auto zero = std::clamp<std::int32_t>(
                static_cast<std::int32_t>(std::lround(-lo / scale)), min_zero, max_code);
            q.scales[o * groups + g] = scale_bits;
            q.zeros[o * groups + g] = zero;
            for (std::int64_t c = 0; c < q.in_features; ++c)
                if (q.group_of(c) == g)
                    q.codes[o * q.in_features + c] = std::clamp<std::int32_t>(
                        static_cast<std::int32_t>(std::lround(x[o * q.in_features + c] / scale)) +
                            zero,
                        0, max_code);
        }
    return q;
}

// A random act-order permutation: column c lands in group rank(c) / group_size.
std::vector<std::int32_t> act_order_g_idx(std::int64_t in, std::uint32_t seed)
{
    std::vector<std::int32_t> perm(static_cast<std::size_t>(in));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), std::mt19937(seed));
    std::vector<std::int32_t> g_idx(perm.size());
    for (std::size_t rank = 0; rank < perm.size(); ++rank)
        g_idx[perm[rank]] = static_cast<std::int32_t>(rank / kGroupSize);
    return g_idx;
}

template <typename T>
std::vector<std::uint8_t> bytes_of(const std::vector<T>& v)
{
    std::vector<std::uint8_t> b(v.size() * sizeof(T));
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

torch::Tensor as_tensor(const std::vector<float>& w, std::int64_t out, std::int64_t in)
{
    return torch::tensor(w).reshape({out, in});
}

enum class Layout { Gptq, GptqV2, Awq, CompressedTensors, CompressedTensorsSym, Mxfp4 };

struct PackedCheckpoint {
    SyntheticCheckpoint source;    // the float model the packed one came from
    SyntheticCheckpoint expected;  // the same with every linear replaced by its dequantized value
};

// Writes a packed checkpoint of `layout` into dir; returns the expected dequantized model.
PackedCheckpoint write_packed(const std::string& dir, Layout layout, int bits, bool act_order)
{
    PackedCheckpoint out;
    out.source = test::synthetic_llama_family("llama", 2, 11);
    out.expected = out.source;
    SafetensorsWriter writer;
    std::uint32_t seed = 1;
    for (const auto& [name, tensor] : out.source.tensors) {
        auto values = tensor.contiguous();
        if (!is_linear(name)) {
            writer.add_f32(name, values.sizes().vec(), values.data_ptr<float>());
            continue;
        }
        const std::string module = name.substr(0, name.size() - std::string(".weight").size());
        const std::int64_t o = values.size(0), i = values.size(1);
        if (layout == Layout::Mxfp4) {
            // Random E2M1 codes and block exponents 2^-5..2^0; rows that are not whole blocks
            // (down_proj, 48 columns) stay float, as an "ignore"d module.
            if (i % kMxfp4BlockSize != 0) {
                writer.add_f32(name, values.sizes().vec(), values.data_ptr<float>());
                continue;
            }
            Mxfp4Packed p;
            p.out_features = o;
            p.in_features = i;
            std::mt19937 rng(seed++);
            p.weight_packed.resize(static_cast<std::size_t>(o * i / 2));
            for (auto& b : p.weight_packed)
                b = static_cast<std::uint8_t>(rng());
            p.weight_scale.resize(static_cast<std::size_t>(o * i / kMxfp4BlockSize));
            for (auto& b : p.weight_scale)
                b = static_cast<std::uint8_t>(120 + rng() % 6);
            out.expected.tensors[name] = as_tensor(mxfp4_dequantize(p), o, i);
            writer.add(module + ".weight_packed", DType::U8, p.weight_packed_shape(),
                       p.weight_packed);
            writer.add(module + ".weight_scale", DType::U8, p.weight_scale_shape(), p.weight_scale);
            continue;
        }
        // v1 GPTQ cannot store a zero point of 0; the other layouts can, so use it there.
        const std::int32_t min_zero = layout == Layout::Gptq ? 1 : 0;
        const auto g_idx = act_order ? act_order_g_idx(i, seed++) : std::vector<std::int32_t>{};
        IntQuantizedLinear q = quantize_rtn(values, bits, min_zero, g_idx);
        if (layout == Layout::CompressedTensorsSym)
            std::fill(q.zeros.begin(), q.zeros.end(), 1 << (bits - 1));
        out.expected.tensors[name] = as_tensor(q.dequantize(), o, i);
        if (layout == Layout::Gptq || layout == Layout::GptqV2) {
            const auto p =
                gptq_pack(q, layout == Layout::Gptq ? GptqZeroFormat::V1 : GptqZeroFormat::V2);
            out.expected.tensors[name] = as_tensor(gptq_dequantize(p), o, i);
            // The v1 "minus one" round trip: the loader's values are those quantized.
            EXPECT_TRUE(torch::equal(out.expected.tensors[name], as_tensor(q.dequantize(), o, i)));
            writer.add(module + ".qweight", DType::I32, p.qweight_shape(), bytes_of(p.qweight));
            writer.add(module + ".qzeros", DType::I32, p.qzeros_shape(), bytes_of(p.qzeros));
            writer.add(module + ".scales", DType::F16, p.scales_shape(), bytes_of(p.scales));
            writer.add(module + ".g_idx", DType::I32, p.g_idx_shape(), bytes_of(p.g_idx));
        } else if (layout == Layout::Awq) {
            const auto p = awq_pack(q);
            out.expected.tensors[name] = as_tensor(awq_dequantize(p), o, i);
            writer.add(module + ".qweight", DType::I32, p.qweight_shape(), bytes_of(p.qweight));
            writer.add(module + ".qzeros", DType::I32, p.qzeros_shape(), bytes_of(p.qzeros));
            writer.add(module + ".scales", DType::F16, p.scales_shape(), bytes_of(p.scales));
        } else {
            const auto p = compressed_tensors_pack(q, layout == Layout::CompressedTensorsSym);
            writer.add(module + ".weight_packed", DType::I32, p.weight_packed_shape(),
                       bytes_of(p.weight_packed));
            writer.add(module + ".weight_scale", DType::F16, p.weight_scale_shape(),
                       bytes_of(p.weight_scale));
            if (!p.symmetric)
                writer.add(module + ".weight_zero_point", DType::I32, p.weight_zero_point_shape(),
                           bytes_of(p.weight_zero_point));
            if (!p.weight_g_idx.empty())
                writer.add(module + ".weight_g_idx", DType::I32, {i}, bytes_of(p.weight_g_idx));
            const std::vector<std::int64_t> shape = {o, i};
            writer.add(module + ".weight_shape", DType::I64, {2}, bytes_of(shape));
        }
    }
    fs::create_directories(dir);
    writer.write(dir + "/model.safetensors");

    nlohmann::json config = out.source.config;
    if (layout == Layout::Gptq || layout == Layout::GptqV2)
        config["quantization_config"] = {
            {"quant_method", "gptq"},
            {"bits", bits},
            {"group_size", kGroupSize},
            {"desc_act", act_order},
            {"sym", false},
            {"checkpoint_format", layout == Layout::Gptq ? "gptq" : "gptq_v2"}};
    else if (layout == Layout::Awq)
        config["quantization_config"] = {{"quant_method", "awq"},
                                         {"bits", bits},
                                         {"group_size", kGroupSize},
                                         {"version", "gemm"},
                                         {"zero_point", true}};
    else if (layout == Layout::Mxfp4)
        config["quantization_config"] = {{"quant_method", "compressed-tensors"},
                                         {"format", "mxfp4-pack-quantized"},
                                         {"config_groups",
                                          {{"group_0",
                                            {{"targets", {"Linear"}},
                                             {"weights",
                                              {{"num_bits", 4},
                                               {"type", "float"},
                                               {"symmetric", true},
                                               {"strategy", "group"},
                                               {"group_size", 32}}}}}}},
                                         {"ignore", {"lm_head", "re:.*down_proj"}}};
    else
        config["quantization_config"] = {
            {"quant_method", "compressed-tensors"},
            {"format", "pack-quantized"},
            {"config_groups",
             {{"group_0",
               {{"targets", {"Linear"}},
                {"weights",
                 {{"num_bits", bits},
                  {"type", "int"},
                  {"symmetric", layout == Layout::CompressedTensorsSym},
                  {"strategy", "group"},
                  {"group_size", kGroupSize},
                  {"actorder", act_order ? nlohmann::json("group") : nlohmann::json()}}}}}}},
            {"ignore", {"lm_head"}}};
    std::ofstream(dir + "/config.json") << config.dump(2);
    std::ofstream(dir + "/tokenizer_config.json") << "{}";
    return out;
}

// Every tensor of the imported model equals the expected one exactly, and the forward pass
// equals that of a float checkpoint holding the expected values.
void expect_imported(const std::string& imported, const SyntheticCheckpoint& expected,
                     const std::string& reference_dir)
{
    auto model = CausalLM::open(imported, torch::kCPU, /*with_tokenizer=*/false);
    for (const auto& [name, tensor] : expected.tensors) {
        ASSERT_TRUE(model->store().contains(name)) << name;
        const auto loaded = load_tensor(model->store(), name);
        ASSERT_EQ(loaded.sizes(), tensor.sizes()) << name;
        EXPECT_TRUE(torch::equal(loaded, tensor))
            << name << ": " << test::describe_max_diff(tensor, loaded);
    }
    auto reference = expected.open(reference_dir);
    const auto tokens = test::random_tokens(12, 5);
    const auto logits = test::logits_of(*model, tokens);
    EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
    EXPECT_LE(test::max_abs_diff(logits, test::logits_of(*reference, tokens)), 1e-6);
}

struct ImportCase {
    Layout layout;
    int bits;
    bool act_order;
    const char* format;
};

class ImportPacked : public ::testing::TestWithParam<ImportCase> {};

TEST_P(ImportPacked, DequantizesExactlyAndRuns)
{
    const auto& c = GetParam();
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    const auto packed = write_packed(root + "/packed", c.layout, c.bits, c.act_order);
    EXPECT_EQ(detect_import_format(root + "/packed"),
              std::string(c.format).rfind("gptq", 0) == 0 ? "gptq" : c.format);
    const ImportSummary summary =
        import_checkpoint(root + "/packed", root + "/imported", false, nullptr);
    EXPECT_EQ(summary.source_format, c.format);
    EXPECT_EQ(summary.dequantized_tensors, c.layout == Layout::Mxfp4 ? 2u * 6u : 2u * 7u);
    EXPECT_EQ(summary.out_dir, root + "/imported");
    expect_imported(root + "/imported", packed.expected, root + "/reference");

    // config.json: no quantization_config, a note naming the source; side files copied.
    std::ifstream in(root + "/imported/config.json");
    const auto config = nlohmann::json::parse(in);
    EXPECT_FALSE(config.contains("quantization_config"));
    EXPECT_EQ(config["quantscope_imported_from"]["format"], c.format);
    EXPECT_EQ(config["quantscope_imported_from"]["bits"], c.bits);
    EXPECT_EQ(config["torch_dtype"], "float32");
    EXPECT_TRUE(fs::exists(root + "/imported/tokenizer_config.json"));
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, ImportPacked,
    ::testing::Values(ImportCase{Layout::Gptq, 4, false, "gptq"},
                      ImportCase{Layout::Gptq, 4, true, "gptq"},
                      ImportCase{Layout::Gptq, 2, true, "gptq"},
                      ImportCase{Layout::GptqV2, 8, false, "gptq_v2"},
                      ImportCase{Layout::Awq, 4, false, "awq"},
                      ImportCase{Layout::CompressedTensors, 4, true, "compressed-tensors"},
                      ImportCase{Layout::CompressedTensorsSym, 8, false, "compressed-tensors"},
                      ImportCase{Layout::Mxfp4, 4, false, "compressed-tensors"}),
    [](const auto& info) {
        std::string name = info.param.format;
        std::replace(name.begin(), name.end(), '-', '_');
        return name + "_" + std::to_string(info.param.bits) + (info.param.act_order ? "_act" : "") +
               (info.param.layout == Layout::CompressedTensorsSym ? "_sym" : "") +
               (info.param.layout == Layout::Mxfp4 ? "_mxfp4" : "");
    });

// A hand-worked GPTQ v1 linear, independent of the codecs: in 8, out 8, 4 bits, one group.
// qweight word 0x76543210 holds input rows 0..7 (lowest nibble first), so q[o][c] = c;
// qzeros 0x77777777 stores zero - 1 = 7, so zero = 8; scale 0.5: w[o][c] = 0.5 * (c - 8).
TEST(ImportGptq, HandWorkedV1Linear)
{
    const test::TempDir tmp;
    SafetensorsWriter writer;
    const std::vector<std::int32_t> qweight(8, 0x76543210);  // [8 * 4 / 32 = 1, 8]
    const std::vector<std::int32_t> qzeros(1, 0x77777777);   // [1, 8 * 4 / 32 = 1]
    const std::vector<std::uint16_t> scales(8, float_to_fp16_bits(0.5f));
    const std::vector<std::int32_t> g_idx(8, 0);
    writer.add("lin.qweight", DType::I32, {1, 8}, bytes_of(qweight));
    writer.add("lin.qzeros", DType::I32, {1, 1}, bytes_of(qzeros));
    writer.add("lin.scales", DType::F16, {1, 8}, bytes_of(scales));
    writer.add("lin.g_idx", DType::I32, {8}, bytes_of(g_idx));
    writer.write(tmp.file("model.safetensors"));
    const auto store = TensorStore::open_file(tmp.file("model.safetensors"));
    PackedScheme scheme;
    scheme.kind = PackedScheme::Kind::Gptq;
    scheme.bits = 4;
    scheme.group_size = -1;
    const auto linear = dequantize_packed_linear(*store, "lin", scheme);
    ASSERT_EQ(linear.out_features, 8);
    ASSERT_EQ(linear.in_features, 8);
    for (int o = 0; o < 8; ++o)
        for (int c = 0; c < 8; ++c)
            EXPECT_EQ(linear.weight[o * 8 + c], 0.5f * float(c - 8)) << o << "," << c;
    // gptq_v2 reads the stored 7 as the zero itself.
    scheme.gptq_v2 = true;
    EXPECT_EQ(dequantize_packed_linear(*store, "lin", scheme).weight[3], 0.5f * (3 - 7));
    // A missing part names the file and the tensor.
    try {
        dequantize_packed_linear(*store, "other", scheme);
        FAIL();
    } catch (const QsError& e) {
        EXPECT_NE(std::string(e.what()).find(tmp.file("model.safetensors") +
                                             ": other: missing tensor 'other.qweight'"),
                  std::string::npos)
            << e.what();
    }
}

// A sharded source (model.safetensors.index.json + two shards) imports like a single file.
TEST(ImportGptq, ShardedSource)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    const auto packed = write_packed(root + "/packed", Layout::Gptq, 4, true);
    std::map<std::string, std::string> weight_map;
    SafetensorsWriter shards[2];
    std::size_t total = 0;
    {
        const auto store = TensorStore::open_dir(root + "/packed");
        for (const auto& name : store->names()) {
            const int shard = name.find("layers.1.") != std::string::npos ? 1 : 0;
            const auto& info = store->info(name);
            const auto view = store->view(name);
            shards[shard].add(name, info.dtype, info.shape,
                              std::vector<std::uint8_t>(view.data, view.data + view.size_bytes));
            weight_map[name] = "model-0000" + std::to_string(shard + 1) + "-of-00002.safetensors";
            total += view.size_bytes;
        }
    }
    fs::remove(root + "/packed/model.safetensors");
    for (int k = 0; k < 2; ++k)
        shards[k].write(root + "/packed/model-0000" + std::to_string(k + 1) +
                        "-of-00002.safetensors");
    write_safetensors_index(root + "/packed", weight_map, total);
    import_checkpoint(root + "/packed", root + "/out", false, nullptr);
    expect_imported(root + "/out", packed.expected, root + "/reference");
}

// Past shard_bytes the writer starts a new shard; the shards and their index open as one store
// holding every tensor (converted to the writer's dtype) under HF's shard names.
TEST(ImportTensorWriter, ShardsLargeOutputs)
{
    const test::TempDir tmp;
    // 800 bytes a tensor: two per 1000-byte shard, so 3 shards.
    ImportTensorWriter writer(tmp.path(), DType::F32, /*shard_bytes=*/1000);
    std::map<std::string, torch::Tensor> written;
    for (int k = 0; k < 5; ++k) {
        const std::string name = "t" + std::to_string(k);
        written[name] = torch::randn({10, 20}).to(k % 2 ? torch::kHalf : torch::kFloat32);
        writer.add(name, written[name]);
    }
    EXPECT_EQ(writer.finish(), 5u);
    EXPECT_TRUE(fs::exists(tmp.file("model-00003-of-00003.safetensors")));
    EXPECT_TRUE(fs::exists(tmp.file("model.safetensors.index.json")));
    const auto store = TensorStore::open_dir(tmp.path());
    EXPECT_EQ(store->names().size(), 5u);
    for (const auto& [name, t] : written) {
        EXPECT_EQ(store->info(name).dtype, DType::F32);
        EXPECT_TRUE(torch::equal(load_tensor(*store, name), t.to(torch::kFloat32))) << name;
    }
    EXPECT_THROW(ImportTensorWriter(tmp.path(), DType::BF16), QsError);
}

// desc_act false with a scattered g_idx: the groups follow desc_act (contiguous), as vLLM loads
// them, and the summary says so.
TEST(ImportGptq, ScatteredGIdxWithoutDescActFollowsDescAct)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    const auto packed = write_packed(root + "/packed", Layout::Gptq, 4, /*act_order=*/true);
    std::ifstream in(root + "/packed/config.json");
    auto config = nlohmann::json::parse(in);
    config["quantization_config"]["desc_act"] = false;
    std::ofstream(root + "/packed/config.json") << config.dump();
    const auto summary = import_checkpoint(root + "/packed", root + "/out", false, nullptr);
    ASSERT_EQ(summary.notes.size(), 2u);
    EXPECT_NE(summary.notes[1].find("14 linears store an act-order g_idx but desc_act is false"),
              std::string::npos)
        << summary.notes[1];
    auto model = CausalLM::open(root + "/out", torch::kCPU, false);
    const std::string name = "model.layers.0.mlp.up_proj.weight";
    EXPECT_FALSE(torch::equal(load_tensor(model->store(), name), packed.expected.tensors.at(name)));
}

// Runs import and returns the QsError message ("" when it succeeded).
std::string import_error(const std::string& in, const std::string& out, bool force = false)
{
    try {
        import_checkpoint(in, out, force, nullptr);
    } catch (const QsError& e) {
        return e.what();
    }
    return "";
}

void rewrite_without(const std::string& dir, const std::string& dropped)
{
    std::vector<std::string> names;
    SafetensorsWriter writer;
    {
        auto store = TensorStore::open_dir(dir);
        for (const auto& name : store->names()) {
            if (name == dropped) continue;
            const auto& info = store->info(name);
            const auto view = store->view(name);
            writer.add(name, info.dtype, info.shape,
                       std::vector<std::uint8_t>(view.data, view.data + view.size_bytes));
        }
    }
    writer.write(dir + "/model.safetensors");
}

bool has_partial_folder(const std::string& root)
{
    for (const auto& entry : fs::directory_iterator(root))
        if (entry.path().filename().string().find(".partial-") != std::string::npos) return true;
    return false;
}

TEST(ImportErrors, MissingQweightNamesFileAndTensor)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    write_packed(root + "/packed", Layout::Gptq, 4, false);
    rewrite_without(root + "/packed", "model.layers.1.mlp.up_proj.qweight");
    const std::string message = import_error(root + "/packed", root + "/out");
    EXPECT_NE(message.find(root + "/packed/model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("missing tensor 'model.layers.1.mlp.up_proj.qweight'"),
              std::string::npos)
        << message;
    EXPECT_FALSE(fs::exists(root + "/out"));
    EXPECT_FALSE(has_partial_folder(root));
}

TEST(ImportErrors, UnknownQuantMethodNamesConfig)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    write_packed(root + "/packed", Layout::Awq, 4, false);
    std::ifstream in(root + "/packed/config.json");
    auto config = nlohmann::json::parse(in);
    config["quantization_config"]["quant_method"] = "hqq";
    std::ofstream(root + "/packed/config.json") << config.dump();
    const std::string message = import_error(root + "/packed", root + "/out");
    EXPECT_NE(message.find(root + "/packed/config.json"), std::string::npos) << message;
    EXPECT_NE(message.find("unknown quant_method 'hqq'"), std::string::npos) << message;
    EXPECT_THROW(detect_import_format(root + "/packed"), QsError);
    EXPECT_FALSE(fs::exists(root + "/out"));
}

TEST(ImportErrors, ShapeMismatchAndUnsupportedVersionAreNamed)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    write_packed(root + "/packed", Layout::Gptq, 4, false);
    // 8-bit settings on 4-bit tensors: qzeros no longer has the expected width.
    std::ifstream in(root + "/packed/config.json");
    auto config = nlohmann::json::parse(in);
    config["quantization_config"]["bits"] = 8;
    std::ofstream(root + "/packed/config.json") << config.dump();
    std::string message = import_error(root + "/packed", root + "/out");
    EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("has shape"), std::string::npos) << message;

    config["quantization_config"] = {{"quant_method", "awq"}, {"version", "gemv"}};
    std::ofstream(root + "/packed/config.json") << config.dump();
    message = import_error(root + "/packed", root + "/out");
    EXPECT_NE(message.find("AWQ version 'gemv' is not supported"), std::string::npos) << message;

    config.erase("quantization_config");
    std::ofstream(root + "/packed/config.json") << config.dump();
    message = import_error(root + "/packed", root + "/out");
    EXPECT_NE(message.find("no quantization_config"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(root + "/out"));
    EXPECT_FALSE(has_partial_folder(root));
}

TEST(ImportErrors, ExistingTargetIsKeptUnlessForce)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    const auto packed = write_packed(root + "/packed", Layout::Awq, 4, false);
    fs::create_directories(root + "/out");
    std::ofstream(root + "/out/keep.txt") << "keep";
    const std::string message = import_error(root + "/packed", root + "/out");
    EXPECT_NE(message.find("already exists"), std::string::npos) << message;
    EXPECT_TRUE(fs::exists(root + "/out/keep.txt"));
    EXPECT_EQ(import_error(root + "/packed", root + "/out", /*force=*/true), "");
    EXPECT_FALSE(fs::exists(root + "/out/keep.txt"));
    expect_imported(root + "/out", packed.expected, root + "/reference");
}

TEST(ImportErrors, CancelLeavesNothing)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    write_packed(root + "/packed", Layout::Gptq, 4, false);
    Feedback feedback;
    feedback.cancel();
    EXPECT_THROW(import_checkpoint(root + "/packed", root + "/out", false, &feedback),
                 CancelledError);
    EXPECT_FALSE(fs::exists(root + "/out"));
    EXPECT_FALSE(has_partial_folder(root));
}

TEST(ImportDtype, Float16HalvesTheWeights)
{
    const test::TempDir tmp;
    const std::string& root = tmp.path();
    const auto packed = write_packed(root + "/packed", Layout::Gptq, 4, true);
    import_checkpoint(root + "/packed", root + "/out", false, nullptr, DType::F16);
    auto model = CausalLM::open(root + "/out", torch::kCPU, false);
    const std::string name = "model.layers.0.self_attn.q_proj.weight";
    EXPECT_EQ(model->store().info(name).dtype, DType::F16);
    const auto expected = packed.expected.tensors.at(name).to(torch::kHalf).to(torch::kFloat32);
    EXPECT_TRUE(torch::equal(load_tensor(model->store(), name), expected));
}

// QuantScope's own MX container imports to exactly the fake-quantized weights of its recipe.
TEST(ImportNativeMx, DecodesToTheFakeQuantizedWeights)
{
    QS_REQUIRE_SHARED();
    const test::TempDir tmp;
    auto model = CausalLM::open(test::stories_dir());
    const Recipe recipe = Recipe::from_yaml("name: mx\nweights: mxfp4-32\n");
    export_checkpoint(*model, recipe, ExportFormat::Fake, tmp.file("fake"));
    export_checkpoint(*model, recipe, ExportFormat::Mx, tmp.file("mx"));
    EXPECT_EQ(detect_import_format(tmp.file("mx")), "mx");
    const auto summary = import_checkpoint(tmp.file("mx"), tmp.file("imported"), false, nullptr);
    EXPECT_EQ(summary.source_format, "mx");
    auto fake = CausalLM::open(tmp.file("fake"));
    auto imported = CausalLM::open(tmp.file("imported"));
    const std::string name = "model.layers.2.mlp.down_proj.weight";
    EXPECT_TRUE(
        torch::equal(load_tensor(imported->store(), name), load_tensor(fake->store(), name)));
    const auto ids = torch::arange(16, torch::kLong).unsqueeze(0);
    EXPECT_TRUE(torch::equal(imported->forward(ids), fake->forward(ids)));
}

}  // namespace
}  // namespace qs
