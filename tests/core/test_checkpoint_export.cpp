// Checkpoint export on stories260K: every format and bit width the format allows is written,
// read back with our own codecs (unpack + dequantize) and compared BIT FOR BIT with the
// fake-quantized checkpoint of the same recipe quantized with fp16 scales; layout checks (names,
// shapes, dtypes, config keys); refusals before anything is written; an existing target kept
// without force; a cancelled export leaves no folder.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "core/export/awq_packing.h"
#include "core/export/checkpoint_export.h"
#include "core/export/compressed_tensors_packing.h"
#include "core/export/export_files.h"
#include "core/export/export_mx.h"
#include "core/export/gptq_packing.h"
#include "core/io/tensor_store.h"
#include "core/model/checkpoint_names.h"
#include "core/quant/mx_quantizer.h"
#include "core/io/tensor_torch.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

namespace fs = std::filesystem;

Recipe recipe(const std::string& yaml)
{
    return Recipe::from_yaml(yaml + "calibration: {dataset: " + test::shared_dir() +
                             "/data/wikitext-2/valid.txt, samples: 8, seqlen: 64, seed: 0}\n");
}

const CausalLM& stories()
{
    static auto model = CausalLM::open(test::stories_dir());
    return *model;
}

template <typename T>
std::vector<T> values(const TensorStore& store, const std::string& name)
{
    TensorView v = store.view(name);
    std::vector<T> out(v.size_bytes / sizeof(T));
    std::memcpy(out.data(), v.data, v.size_bytes);
    return out;
}

// The weights the export must reproduce: quantize_model with the export's options.
std::unique_ptr<TensorStore> fake_reference(const Recipe& r, const std::string& dir,
                                            bool int_layout)
{
    QuantizeOptions options;
    options.fp16_scales = int_layout;
    options.write_quant_params = int_layout;
    quantize_model(stories(), r, dir, options);
    return TensorStore::open_dir(dir);
}

std::vector<std::string> linear_modules()
{
    std::vector<std::string> out;
    for (int i = 0; i < 5; ++i)
        for (const auto& m : decoder_linear_names(stories().config()))
            out.push_back("model.layers." + std::to_string(i) + "." + m);
    return out;
}

// Compares the top-left [out, in] of `got` [out_p, in_p] with the fake weight bit for bit; the
// padding must be exactly zero.
void expect_same_bits(const std::vector<float>& got, std::int64_t out_p, std::int64_t in_p,
                      const torch::Tensor& fake, const std::string& name)
{
    auto f = fake.contiguous();
    const auto out = f.size(0), in = f.size(1);
    ASSERT_GE(out_p, out) << name;
    ASSERT_GE(in_p, in) << name;
    ASSERT_EQ(got.size(), std::size_t(out_p * in_p)) << name;
    const float* w = f.data_ptr<float>();
    std::int64_t mismatches = 0, nonzero_pad = 0;
    for (std::int64_t r = 0; r < out_p; ++r)
        for (std::int64_t c = 0; c < in_p; ++c) {
            const float g = got[std::size_t(r * in_p + c)];
            if (r < out && c < in)
                mismatches += std::memcmp(&g, &w[r * in + c], 4) != 0;
            else
                nonzero_pad += g != 0.0f;
        }
    EXPECT_EQ(mismatches, 0) << name;
    EXPECT_EQ(nonzero_pad, 0) << name;
}

nlohmann::json quant_config(const std::string& dir)
{
    return read_json(dir + "/config.json").at("quantization_config");
}

void check_gptq(const Recipe& r, bool v2 = false)
{
    test::TempDir tmp;
    auto fake = fake_reference(r, tmp.file("fake"), true);
    ExportOptions options;
    options.gptq_v2 = v2;
    auto result = export_checkpoint(stories(), r, ExportFormat::Gptq, tmp.file("gptq"), options);
    auto store = TensorStore::open_dir(tmp.file("gptq"));
    const int bits = r.weights.bits;
    const auto q = quant_config(tmp.file("gptq"));
    EXPECT_EQ(q.at("quant_method"), "gptq");
    EXPECT_EQ(q.at("bits"), bits);
    EXPECT_EQ(q.at("sym"), r.weights.symmetric);
    EXPECT_EQ(q.at("desc_act"), r.gptq.act_order && r.uses(Method::Gptq));
    EXPECT_EQ(q.at("checkpoint_format"), v2 ? "gptq_v2" : "gptq");
    EXPECT_EQ(q.at("group_size"),
              r.weights.granularity == Granularity::Group ? r.weights.group_size : -1);
    EXPECT_EQ(read_json(tmp.file("gptq") + "/quantize_config.json"), q);
    EXPECT_TRUE(fs::exists(tmp.file("gptq") + "/tokenizer.json"));
    EXPECT_FALSE(fs::exists(tmp.file("gptq") + "/" + kQuantParamsFile));
    for (const auto& m : linear_modules()) {
        SCOPED_TRACE(m);
        EXPECT_FALSE(store->contains(m + ".weight"));
        const auto fw = load_tensor(*fake, m + ".weight");
        const auto& qw = store->info(m + ".qweight");
        ASSERT_EQ(qw.dtype, DType::I32);
        GptqPacked p;
        p.in_features = qw.shape[0] * 32 / bits;
        p.out_features = qw.shape[1];
        p.bits = bits;
        p.zero_format = v2 ? GptqZeroFormat::V2 : GptqZeroFormat::V1;
        p.qweight = values<std::int32_t>(*store, m + ".qweight");
        p.qzeros = values<std::int32_t>(*store, m + ".qzeros");
        p.scales = values<std::uint16_t>(*store, m + ".scales");
        p.g_idx = values<std::int32_t>(*store, m + ".g_idx");
        EXPECT_EQ(store->info(m + ".scales").dtype, DType::F16);
        EXPECT_EQ(store->info(m + ".g_idx").shape, std::vector<std::int64_t>{p.in_features});
        p.groups = store->info(m + ".scales").shape[0];
        EXPECT_EQ(store->info(m + ".qzeros").shape,
                  (std::vector<std::int64_t>{p.groups, p.out_features * bits / 32}));
        expect_same_bits(gptq_dequantize(p), p.out_features, p.in_features, fw, m);
    }
    // Everything else is fp16, with the padded MLP width in config.json.
    EXPECT_EQ(store->info("model.layers.0.input_layernorm.weight").dtype, DType::F16);
    EXPECT_EQ(store->info("model.embed_tokens.weight").dtype, DType::F16);
    EXPECT_EQ(read_json(tmp.file("gptq") + "/config.json").at("intermediate_size"),
              result.intermediate_size);
    EXPECT_EQ(result.intermediate_size % (32 / std::gcd(32, bits)), 0);
}

TEST(CheckpointExport, GptqEveryBitWidthSymAndAsym)
{
    QS_REQUIRE_SHARED();
    for (int bits : {2, 3, 4, 8})
        for (const char* sym : {"sym", "asym"}) {
            SCOPED_TRACE(std::to_string(bits) + sym);
            check_gptq(recipe("methods: [gptq]\nweights: int" + std::to_string(bits) + "-g16-" +
                              sym + "\n"),
                       /*v2=*/std::string(sym) == "asym");
        }
}

TEST(CheckpointExport, GptqActOrderAndPerChannel)
{
    QS_REQUIRE_SHARED();
    check_gptq(recipe("methods: [gptq]\nweights: int4-g16-asym\ngptq: {act_order: true}\n"),
               /*v2=*/true);
    check_gptq(recipe("methods: [gptq]\nweights: int4-g16-sym\ngptq: {act_order: true}\n"));
    check_gptq(recipe("methods: [gptq]\nweights: int4-channel-sym\ngptq: {act_order: true}\n"));
    check_gptq(recipe("methods: [rtn]\nweights: int8-channel-asym\n"), /*v2=*/true);
}

void check_awq(const Recipe& r)
{
    test::TempDir tmp;
    auto fake = fake_reference(r, tmp.file("fake"), true);
    export_checkpoint(stories(), r, ExportFormat::Awq, tmp.file("awq"));
    auto store = TensorStore::open_dir(tmp.file("awq"));
    const auto q = quant_config(tmp.file("awq"));
    EXPECT_EQ(q.at("quant_method"), "awq");
    EXPECT_EQ(q.at("version"), "gemm");
    EXPECT_EQ(q.at("zero_point"), true);
    EXPECT_EQ(q.at("bits"), 4);
    EXPECT_EQ(q.at("group_size"), r.weights.group_size);
    // AWQ's scales are folded into the norms and previous linears: the fake checkpoint's norm
    // weights are stored as they are (fp16).
    EXPECT_TRUE(store->contains("model.layers.0.input_layernorm.weight"));
    for (const auto& m : linear_modules()) {
        SCOPED_TRACE(m);
        AwqPacked p;
        const auto& qw = store->info(m + ".qweight");
        p.in_features = qw.shape[0];
        p.out_features = qw.shape[1] * 8;
        p.group_size = r.weights.group_size;
        p.groups = p.in_features / p.group_size;
        p.qweight = values<std::int32_t>(*store, m + ".qweight");
        p.qzeros = values<std::int32_t>(*store, m + ".qzeros");
        p.scales = values<std::uint16_t>(*store, m + ".scales");
        EXPECT_EQ(store->info(m + ".scales").shape,
                  (std::vector<std::int64_t>{p.groups, p.out_features}));
        expect_same_bits(awq_dequantize(p), p.out_features, p.in_features,
                         load_tensor(*fake, m + ".weight"), m);
    }
}

TEST(CheckpointExport, AwqInt4)
{
    QS_REQUIRE_SHARED();
    check_awq(recipe("methods: [awq]\nweights: int4-g16-asym\n"));
    check_awq(recipe("methods: [awq]\nweights: int4-g32-sym\n"));
    check_awq(recipe("methods: [awq, gptq]\nweights: int4-g16-asym\n"));
}

void check_compressed(const Recipe& r)
{
    test::TempDir tmp;
    auto fake = fake_reference(r, tmp.file("fake"), true);
    export_checkpoint(stories(), r, ExportFormat::CompressedTensors, tmp.file("ct"));
    auto store = TensorStore::open_dir(tmp.file("ct"));
    const auto q = quant_config(tmp.file("ct"));
    EXPECT_EQ(q.at("quant_method"), "compressed-tensors");
    EXPECT_EQ(q.at("format"), "pack-quantized");
    EXPECT_EQ(q.at("quantization_status"), "compressed");
    const auto& w = q.at("config_groups").at("group_0").at("weights");
    EXPECT_EQ(w.at("num_bits"), r.weights.bits);
    EXPECT_EQ(w.at("symmetric"), r.weights.symmetric);
    EXPECT_EQ(w.at("type"), "int");
    const bool grouped = r.weights.granularity == Granularity::Group;
    EXPECT_EQ(w.at("strategy"), grouped ? "group" : "channel");
    for (const auto& m : linear_modules()) {
        SCOPED_TRACE(m);
        CompressedTensorsPacked p;
        auto shape = values<std::int64_t>(*store, m + ".weight_shape");
        ASSERT_EQ(shape.size(), 2u);
        p.out_features = shape[0];
        p.in_features = shape[1];
        p.bits = r.weights.bits;
        p.symmetric = r.weights.symmetric;
        p.weight_shape = {shape[0], shape[1]};
        p.weight_packed = values<std::int32_t>(*store, m + ".weight_packed");
        p.weight_scale = values<std::uint16_t>(*store, m + ".weight_scale");
        p.groups = store->info(m + ".weight_scale").shape[1];
        EXPECT_EQ(store->contains(m + ".weight_zero_point"), !p.symmetric);
        if (!p.symmetric)
            p.weight_zero_point = values<std::int32_t>(*store, m + ".weight_zero_point");
        if (store->contains(m + ".weight_g_idx"))
            p.weight_g_idx = values<std::int32_t>(*store, m + ".weight_g_idx");
        const auto group = grouped ? r.weights.group_size : p.in_features;
        auto linear = compressed_tensors_unpack(p, group);
        expect_same_bits(linear.dequantize(), p.out_features, p.in_features,
                         load_tensor(*fake, m + ".weight"), m);
    }
}

TEST(CheckpointExport, CompressedTensorsInt4AndInt8)
{
    QS_REQUIRE_SHARED();
    check_compressed(recipe("methods: [rtn]\nweights: int4-g16-sym\n"));
    check_compressed(recipe("methods: [rtn]\nweights: int8-channel-asym\n"));
    check_compressed(recipe("methods: [gptq]\nweights: int4-g16-asym\ngptq: {act_order: true}\n"));
    check_compressed(recipe("methods: [gptq]\nweights: int8-g32-sym\n"));
}

TEST(CheckpointExport, CompressedTensorsIgnoresFullPrecisionLayers)
{
    QS_REQUIRE_SHARED();
    const Recipe r = recipe("methods: [rtn]\nweights: int4-g16-asym\nfull_precision_layers: [2]\n");
    test::TempDir tmp;
    auto fake = fake_reference(r, tmp.file("fake"), true);
    export_checkpoint(stories(), r, ExportFormat::CompressedTensors, tmp.file("ct"));
    const auto ignore = quant_config(tmp.file("ct")).at("ignore");
    EXPECT_NE(std::find(ignore.begin(), ignore.end(), "model.layers.2.mlp.down_proj"),
              ignore.end());
    EXPECT_EQ(std::find(ignore.begin(), ignore.end(), "model.layers.1.mlp.down_proj"),
              ignore.end());
    auto store = TensorStore::open_dir(tmp.file("ct"));
    EXPECT_TRUE(store->contains("model.layers.1.mlp.down_proj.weight_packed"));
    // Kept in full precision: fp16, with the padded intermediate columns zero.
    const auto& info = store->info("model.layers.2.mlp.down_proj.weight");
    EXPECT_EQ(info.dtype, DType::F16);
    EXPECT_EQ(info.shape, (std::vector<std::int64_t>{64, 176}));
    auto w = load_tensor(*store, "model.layers.2.mlp.down_proj.weight");
    auto f = load_tensor(*fake, "model.layers.2.mlp.down_proj.weight");
    EXPECT_TRUE(torch::equal(w.slice(1, 0, 172), f.to(torch::kHalf).to(torch::kFloat32)));
    EXPECT_EQ(w.slice(1, 172).abs().sum().item<float>(), 0.0f);
}

TEST(CheckpointExport, CompressedTensorsMxfp4)
{
    QS_REQUIRE_SHARED();
    for (const char* yaml :
         {"methods: [rtn]\nweights: mxfp4-32\n", "methods: [gptq]\nweights: mxfp4-32-even\n"}) {
        SCOPED_TRACE(yaml);
        const Recipe r = recipe(yaml);
        test::TempDir tmp;
        auto fake = fake_reference(r, tmp.file("fake"), false);
        auto result =
            export_checkpoint(stories(), r, ExportFormat::CompressedTensors, tmp.file("ct"));
        EXPECT_EQ(result.intermediate_size, 192);  // 172 padded to whole blocks of 32
        const auto q = quant_config(tmp.file("ct"));
        EXPECT_EQ(q.at("format"), "mxfp4-pack-quantized");
        EXPECT_EQ(q.at("config_groups").at("group_0").at("weights").at("type"), "float");
        EXPECT_EQ(q.at("config_groups").at("group_0").at("weights").at("group_size"), 32);
        auto store = TensorStore::open_dir(tmp.file("ct"));
        for (const auto& m : linear_modules()) {
            SCOPED_TRACE(m);
            const auto& packed_info = store->info(m + ".weight_packed");
            EXPECT_EQ(packed_info.dtype, DType::U8);
            Mxfp4Packed p;
            p.out_features = packed_info.shape[0];
            p.in_features = packed_info.shape[1] * 2;
            p.weight_packed = values<std::uint8_t>(*store, m + ".weight_packed");
            p.weight_scale = values<std::uint8_t>(*store, m + ".weight_scale");
            EXPECT_EQ(store->info(m + ".weight_scale").shape,
                      (std::vector<std::int64_t>{p.out_features, p.in_features / 32}));
            expect_same_bits(mxfp4_dequantize(p), p.out_features, p.in_features,
                             load_tensor(*fake, m + ".weight"), m);
        }
    }
}

TEST(CheckpointExport, MxContainerReadsBackBitExact)
{
    QS_REQUIRE_SHARED();
    for (const char* yaml :
         {"methods: [rtn]\nweights: mxint4-32\n", "methods: [gptq]\nweights: mxfp4-32\n",
          "methods: [rtn]\nweights: mxint8-16\n", "methods: [rtn]\nweights: mxfp6-e3m2-32\n",
          "methods: [awq]\nweights: mxint3-32\n", "methods: [rtn]\nweights: mxfp8-e4m3-32\n",
          "methods: [rtn]\nweights: mxint2-64\nactivations: mxint8-32\n"}) {
        SCOPED_TRACE(yaml);
        const Recipe r = recipe(yaml);
        test::TempDir tmp;
        auto fake = fake_reference(r, tmp.file("fake"), false);
        export_checkpoint(stories(), r, ExportFormat::Mx, tmp.file("mx"));
        const auto q = quant_config(tmp.file("mx"));
        EXPECT_EQ(q.at("quant_method"), "quantscope-mx");
        EXPECT_EQ(q.at("weights"), r.weights.name());
        auto store = TensorStore::open_dir(tmp.file("mx"));
        const auto& elem = store->info("model.layers.1.mlp.down_proj.weight_mx");
        EXPECT_EQ(elem.dtype, DType::U8);
        EXPECT_EQ(elem.shape,
                  (std::vector<std::int64_t>{64, (172 * r.weights.element_bits() + 7) / 8}));
        EXPECT_EQ(store->info("model.layers.1.mlp.down_proj.weight_exponent").shape,
                  (std::vector<std::int64_t>{
                      64, (172 + r.weights.block_size - 1) / r.weights.block_size}));
        auto back = read_mx_checkpoint(tmp.file("mx"));
        for (const auto& name : fake->names()) {
            auto f = load_tensor(*fake, name);
            ASSERT_TRUE(back.count(name)) << name;
            auto g = back.at(name).contiguous();
            ASSERT_EQ(g.sizes(), f.sizes()) << name;
            EXPECT_EQ(std::memcmp(g.data_ptr<float>(), f.data_ptr<float>(), f.numel() * 4), 0)
                << name;
        }
    }
}

TEST(CheckpointExport, MxElementCodesRoundTripTheGrid)
{
    // Every code of every element type decodes to a value that encodes back to the same code
    // (NaN/Inf codes of E5M2 excluded; -0 keeps its sign).
    for (auto e :
         {MxElement::Int8, MxElement::Int4, MxElement::Int3, MxElement::Int2, MxElement::Fp4E2M1,
          MxElement::Fp6E3M2, MxElement::Fp6E2M3, MxElement::Fp8E4M3, MxElement::Fp8E5M2}) {
        QuantFormat f;
        f.kind = FormatKind::Mx;
        f.element = e;
        const int bits = f.element_bits();
        for (std::uint32_t code = 0; code < (1u << bits); ++code) {
            const float v = mx_element_value(e, code);
            if (!std::isfinite(v) || std::fabs(v) > mx_element_max(e)) continue;
            EXPECT_EQ(mx_element_code(e, v), code) << f.name() << " code " << code;
        }
        EXPECT_THROW(mx_element_code(e, 0.3f), QsError);
    }
}

// The parameters file of write_quant_params, with the default float32 scales: the weights are
// unchanged and q = round(W_q / scale + zero) gives W_q = scale * (q - zero) back bit for bit.
TEST(CheckpointExport, QuantParamsReproduceTheFakeWeights)
{
    QS_REQUIRE_SHARED();
    const Recipe r = recipe("methods: [gptq]\nweights: int3-g16-asym\ngptq: {act_order: true}\n");
    test::TempDir tmp;
    quantize_model(stories(), r, tmp.file("plain"));
    QuantizeOptions options;
    options.write_quant_params = true;
    quantize_model(stories(), r, tmp.file("params"), options);
    auto plain = TensorStore::open_dir(tmp.file("plain"));
    auto with = TensorStore::open_dir(tmp.file("params"));
    auto params = TensorStore::open_file(tmp.file("params") + "/" + kQuantParamsFile);
    for (const auto& m : linear_modules()) {
        SCOPED_TRACE(m);
        auto a = load_tensor(*plain, m + ".weight"), b = load_tensor(*with, m + ".weight");
        EXPECT_TRUE(torch::equal(a, b));
        auto s = load_tensor(*params, m + ".weight.scales");
        auto z = torch::tensor(values<std::int32_t>(*params, m + ".weight.zeros"))
                     .reshape(s.sizes())
                     .to(torch::kFloat32);
        auto g = torch::tensor(values<std::int32_t>(*params, m + ".weight.g_idx")).to(torch::kLong);
        ASSERT_EQ(g.numel(), b.size(1));
        auto sc = s.index_select(1, g), zc = z.index_select(1, g);
        auto q = torch::round(b / sc) + zc;
        EXPECT_GE(q.min().item<float>(), 0);
        EXPECT_LE(q.max().item<float>(), 7);
        EXPECT_TRUE(torch::equal(sc * (q - zc), b));
    }
}

void expect_refused(const Recipe& r, ExportFormat format, const std::string& words)
{
    test::TempDir tmp;
    const auto out = tmp.file("out");
    try {
        export_checkpoint(stories(), r, format, out);
        ADD_FAILURE() << "not refused: " << export_format_name(format);
    } catch (const QsError& e) {
        EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("formats that fit: fake"), std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(fs::is_empty(tmp.path())) << "something was written";
}

TEST(CheckpointExport, RefusesWhatTheFormatCannotHoldBeforeWriting)
{
    QS_REQUIRE_SHARED();
    expect_refused(recipe("methods: [gptq]\nweights: mxint4-32\n"), ExportFormat::Gptq,
                   "integer weights only");
    expect_refused(recipe("methods: [rtn]\nweights: mxint4-32\n"), ExportFormat::CompressedTensors,
                   "fake, mx");
    expect_refused(recipe("methods: [rtn]\nweights: mxfp4-32\n"), ExportFormat::Awq,
                   "fake, compressed-tensors, mx");
    expect_refused(recipe("methods: [rtn]\nweights: int8-g16-asym\nactivations: int8-token\n"),
                   ExportFormat::Gptq, "weight-only");
    expect_refused(recipe("methods: [awq]\nweights: int8-g16-asym\n"), ExportFormat::Awq, "4-bit");
    expect_refused(recipe("methods: [gptq]\nweights: int4-g16-asym\ngptq: {act_order: true}\n"),
                   ExportFormat::Awq, "act-order");
    expect_refused(recipe("methods: [rtn]\nweights: int4-g128-asym\n"), ExportFormat::Gptq,
                   "not a multiple of 128");
    expect_refused(recipe("methods: [rtn]\nweights: int4-g16-asym\nfull_precision_layers: [2]\n"),
                   ExportFormat::Awq, "layers 2");
    expect_refused(recipe("methods: [rtn]\nweights: int4-g16-asym\n"), ExportFormat::Mx,
                   "MX weights only");
}

TEST(CheckpointExport, GptqV1RefusesAZeroPointOfZeroNamingTheLinear)
{
    QS_REQUIRE_SHARED();
    // int2 with groups of 4 columns: some groups are all >= 0, so their zero point is 0.
    const Recipe r = recipe("methods: [rtn]\nweights: int2-g4-asym\n");
    test::TempDir tmp;
    try {
        export_checkpoint(stories(), r, ExportFormat::Gptq, tmp.file("out"));
        ADD_FAILURE() << "not refused";
    } catch (const QsError& e) {
        EXPECT_NE(std::string(e.what()).find("model.layers."), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("gptq_v2"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(tmp.path()));
    check_gptq(r, /*v2=*/true);
}

TEST(CheckpointExport, KeepsAnExistingTargetUnlessForced)
{
    QS_REQUIRE_SHARED();
    const Recipe r = recipe("methods: [rtn]\nweights: int4-g16-sym\n");
    test::TempDir tmp;
    const auto out = tmp.file("out");
    fs::create_directories(out);
    write_json(out + "/marker.json", nlohmann::json::object());
    EXPECT_THROW(export_checkpoint(stories(), r, ExportFormat::Gptq, out), QsError);
    EXPECT_TRUE(fs::exists(out + "/marker.json"));
    ExportOptions options;
    options.force = true;
    export_checkpoint(stories(), r, ExportFormat::Gptq, out, options);
    EXPECT_FALSE(fs::exists(out + "/marker.json"));
    EXPECT_TRUE(fs::exists(out + "/config.json"));
}

TEST(CheckpointExport, CancelLeavesNoFolder)
{
    QS_REQUIRE_SHARED();
    for (auto format : {ExportFormat::Gptq, ExportFormat::Mx}) {
        const Recipe r =
            recipe(format == ExportFormat::Mx ? "methods: [rtn]\nweights: mxint4-32\n"
                                              : "methods: [gptq]\nweights: int4-g16-asym\n");
        test::TempDir tmp;
        Feedback feedback;
        feedback.set_listener([&](double fraction, const std::string&) {
            if (fraction > 0.5) feedback.cancel();
        });
        EXPECT_THROW(export_checkpoint(stories(), r, format, tmp.file("out"), {}, &feedback),
                     CancelledError);
        EXPECT_TRUE(fs::is_empty(tmp.path())) << export_format_name(format);
    }
}

}  // namespace
}  // namespace qs
