#include "core/export/export_int_layouts.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "core/export/awq_packing.h"
#include "core/export/bit_packing.h"
#include "core/export/compressed_tensors_packing.h"
#include "core/export/export_files.h"
#include "core/export/gptq_packing.h"
#include "core/io/safetensors_reader.h"
#include "core/io/tensor_store.h"
#include "core/io/tensor_torch.h"
#include "core/quant/quantize_model.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs {

torch::Tensor read_quant_param(const SafetensorsReader& reader, const std::string& name)
{
    const auto& info = reader.info(name);
    TensorView v = reader.view(name);
    const auto type = info.dtype == DType::F32 ? torch::kFloat32 : torch::kInt32;
    auto t = torch::empty(info.shape, type);
    std::memcpy(t.data_ptr(), v.data, v.size_bytes);
    return t;
}

namespace {

std::int64_t group_size_of(const QuantFormat& f, std::int64_t in)
{
    return f.granularity == Granularity::Group && f.group_size > 0 && f.group_size < in
               ? f.group_size
               : in;
}

std::uint32_t float_bits(float v)
{
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
}

void add_gptq(SafetensorsWriter& w, std::vector<std::string>& names, const std::string& module,
              const IntQuantizedLinear& linear, const IntLayoutJob& job)
{
    GptqPacked p;
    try {
        p = gptq_pack(linear, job.gptq_v2 ? GptqZeroFormat::V2 : GptqZeroFormat::V1);
    } catch (const QsError& e) {
        throw QsError(module + ": " + e.what() +
                      (job.gptq_v2 ? std::string()
                                   : std::string(" (export with gptq_v2 (--gptq-v2), "
                                                 "compressed-tensors or fake instead)")));
    }
    add_array(w, module + ".qweight", DType::I32, p.qweight_shape(), p.qweight);
    add_array(w, module + ".qzeros", DType::I32, p.qzeros_shape(), p.qzeros);
    add_array(w, module + ".scales", DType::F16, p.scales_shape(), p.scales);
    add_array(w, module + ".g_idx", DType::I32, p.g_idx_shape(), p.g_idx);
    names.insert(names.end(),
                 {module + ".qweight", module + ".qzeros", module + ".scales", module + ".g_idx"});
}

void add_awq(SafetensorsWriter& w, std::vector<std::string>& names, const std::string& module,
             const IntQuantizedLinear& linear)
{
    AwqPacked p;
    try {
        p = awq_pack(linear);
    } catch (const QsError& e) {
        throw QsError(module + ": " + e.what());
    }
    add_array(w, module + ".qweight", DType::I32, p.qweight_shape(), p.qweight);
    add_array(w, module + ".qzeros", DType::I32, p.qzeros_shape(), p.qzeros);
    add_array(w, module + ".scales", DType::F16, p.scales_shape(), p.scales);
    names.insert(names.end(), {module + ".qweight", module + ".qzeros", module + ".scales"});
}

void add_compressed(SafetensorsWriter& w, std::vector<std::string>& names,
                    const std::string& module, const IntQuantizedLinear& linear, bool symmetric)
{
    CompressedTensorsPacked p;
    try {
        p = compressed_tensors_pack(linear, symmetric);
    } catch (const QsError& e) {
        throw QsError(module + ": " + e.what());
    }
    add_array(w, module + ".weight_packed", DType::I32, p.weight_packed_shape(), p.weight_packed);
    add_array(w, module + ".weight_scale", DType::F16, p.weight_scale_shape(), p.weight_scale);
    add_array(w, module + ".weight_shape", DType::I64, {2},
              std::vector<std::int64_t>(p.weight_shape.begin(), p.weight_shape.end()));
    names.insert(names.end(),
                 {module + ".weight_packed", module + ".weight_scale", module + ".weight_shape"});
    if (!p.weight_zero_point.empty()) {
        add_array(w, module + ".weight_zero_point", DType::I32, p.weight_zero_point_shape(),
                  p.weight_zero_point);
        names.push_back(module + ".weight_zero_point");
    }
    if (!p.weight_g_idx.empty()) {
        add_array(w, module + ".weight_g_idx", DType::I32, {p.in_features}, p.weight_g_idx);
        names.push_back(module + ".weight_g_idx");
    }
}

}  // namespace

LinearAlignment int_layout_alignment(ExportFormat format, const QuantFormat& weights)
{
    if (weights.kind == FormatKind::Mx)  // compressed-tensors mxfp4: whole blocks of 32
        return {format == ExportFormat::CompressedTensors ? kMxfp4BlockSize : 1, 1};
    const std::int64_t group = weights.granularity == Granularity::Group ? weights.group_size : 1;
    const std::int64_t word = 32 / std::gcd(32, weights.bits);
    switch (format) {
        case ExportFormat::Gptq:
            return {std::lcm(word, group), word};
        case ExportFormat::Awq:
            return {group, 8};
        case ExportFormat::CompressedTensors:
            return {group, 1};
        default:
            return {};
    }
}

std::int64_t padded_intermediate_size(std::int64_t size, const LinearAlignment& a)
{
    const auto m = std::lcm(a.in, a.out);
    return (size + m - 1) / m * m;
}

IntQuantizedLinear int_linear_from_params(const torch::Tensor& weight, const torch::Tensor& scales,
                                          const torch::Tensor& zeros, const torch::Tensor& g_idx,
                                          const QuantFormat& format, const std::string& name)
{
    auto w = weight.to(torch::kCPU, torch::kFloat32).contiguous();
    auto s = scales.to(torch::kCPU, torch::kFloat32).contiguous();
    auto z = zeros.to(torch::kCPU, torch::kInt32).contiguous();
    auto g = g_idx.to(torch::kCPU, torch::kInt32).contiguous();
    IntQuantizedLinear l;
    l.out_features = w.size(0);
    l.in_features = w.size(1);
    l.bits = format.bits;
    l.group_size = group_size_of(format, l.in_features);
    const auto groups = s.size(1);
    if (s.size(0) != l.out_features || z.sizes() != s.sizes() || g.numel() != l.in_features)
        throw QsError(name + ": parameter shapes do not match the weight " +
                      shape_text(w.sizes().vec()));
    l.g_idx.assign(g.data_ptr<std::int32_t>(), g.data_ptr<std::int32_t>() + g.numel());
    l.zeros.assign(z.data_ptr<std::int32_t>(), z.data_ptr<std::int32_t>() + z.numel());
    l.scales.resize(std::size_t(s.numel()));
    const float* sp = s.data_ptr<float>();
    for (std::int64_t i = 0; i < s.numel(); ++i) {
        l.scales[std::size_t(i)] = float_to_fp16_bits(sp[i]);
        if (float_bits(fp16_bits_to_float(l.scales[std::size_t(i)])) != float_bits(sp[i]))
            throw QsError(name + ": scale " + std::to_string(sp[i]) +
                          " is not an fp16 value (quantize with fp16 scales)");
    }
    const float* wp = w.data_ptr<float>();
    l.codes.resize(std::size_t(w.numel()));
    const double maxq = double((1 << l.bits) - 1);
    for (std::int64_t r = 0; r < l.out_features; ++r)
        for (std::int64_t c = 0; c < l.in_features; ++c) {
            const auto k = r * groups + l.g_idx[std::size_t(c)];
            const double q = double(std::nearbyint(wp[r * l.in_features + c] / sp[k])) +
                             double(l.zeros[std::size_t(k)]);
            if (!(q >= 0 && q <= maxq))
                throw QsError(name + ": weight [" + std::to_string(r) + ", " + std::to_string(c) +
                              "] is off the integer grid of its scale");
            l.codes[std::size_t(r * l.in_features + c)] = std::int32_t(q);
        }
    l.validate(name);
    const auto back = l.dequantize();
    for (std::int64_t i = 0; i < w.numel(); ++i)
        if (float_bits(back[std::size_t(i)]) != float_bits(wp[i]))
            throw QsError(name + ": the integer codes do not reproduce weight " +
                          std::to_string(i) + " bit for bit (" + std::to_string(wp[i]) + " vs " +
                          std::to_string(back[std::size_t(i)]) + ")");
    return l;
}

IntQuantizedLinear pad_int_linear(const IntQuantizedLinear& l, std::int64_t out, std::int64_t in)
{
    if (out == l.out_features && in == l.in_features) return l;
    const bool per_channel = l.group_size >= l.in_features;
    IntQuantizedLinear p;
    p.out_features = out;
    p.in_features = in;
    p.bits = l.bits;
    p.group_size = per_channel ? in : l.group_size;
    const auto old_groups = l.groups();
    const auto groups = std::max(old_groups, p.groups());
    const std::int32_t mid = 1 << (l.bits - 1);
    p.g_idx.resize(std::size_t(in));
    for (std::int64_t c = 0; c < in; ++c)
        p.g_idx[std::size_t(c)] = c < l.in_features ? l.group_of(c)
                                  : per_channel     ? 0
                                                    : std::int32_t(c / p.group_size);
    p.scales.assign(std::size_t(out * groups), float_to_fp16_bits(1.0f));
    p.zeros.assign(std::size_t(out * groups), mid);
    p.codes.assign(std::size_t(out * in), mid);
    for (std::int64_t r = 0; r < l.out_features; ++r) {
        for (std::int64_t k = 0; k < old_groups; ++k) {
            p.scales[std::size_t(r * groups + k)] = l.scales[std::size_t(r * old_groups + k)];
            p.zeros[std::size_t(r * groups + k)] = l.zeros[std::size_t(r * old_groups + k)];
        }
        for (std::int64_t c = 0; c < in; ++c)
            p.codes[std::size_t(r * in + c)] =
                c < l.in_features ? l.codes[std::size_t(r * l.in_features + c)]
                                  : p.zeros[std::size_t(r * groups + p.g_idx[std::size_t(c)])];
    }
    if (p.has_contiguous_groups()) p.g_idx.clear();
    p.validate("padded linear");
    return p;
}

void write_int_layout(const std::string& fake_dir, const std::string& out_dir,
                      const IntLayoutJob& job)
{
    SafetensorsReader params(fake_dir + "/" + kQuantParamsFile);
    const bool padded = job.padded_intermediate != job.intermediate_size;
    rewrite_shards(
        fake_dir, out_dir,
        [&](const ShardTensor& tensor, SafetensorsWriter& writer, std::vector<std::string>& names) {
            const std::string& name = tensor.name;
            const Pad pad = padded ? pad_of(name) : Pad::None;
            if (!params.contains(name + ".scales")) {
                add_f16(writer, name,
                        pad_tensor(load_tensor(tensor.store, name), pad, job.padded_intermediate));
                names.push_back(name);
                return;
            }
            const auto module = name.substr(0, name.size() - std::string(".weight").size());
            auto linear = int_linear_from_params(
                load_tensor(tensor.store, name), read_quant_param(params, name + ".scales"),
                read_quant_param(params, name + ".zeros"),
                read_quant_param(params, name + ".g_idx"), job.weights, name);
            if (pad == Pad::Rows)
                linear = pad_int_linear(linear, job.padded_intermediate, linear.in_features);
            else if (pad == Pad::Cols)
                linear = pad_int_linear(linear, linear.out_features, job.padded_intermediate);
            switch (job.format) {
                case ExportFormat::Gptq:
                    add_gptq(writer, names, module, linear, job);
                    break;
                case ExportFormat::Awq:
                    add_awq(writer, names, module, linear);
                    break;
                case ExportFormat::CompressedTensors:
                    add_compressed(writer, names, module, linear, job.weights.symmetric);
                    break;
                default:
                    throw QsError("write_int_layout: not an integer layout");
            }
        });
}

nlohmann::json int_quantization_config(const IntLayoutJob& job, const Recipe& recipe,
                                       const std::vector<std::string>& ignore)
{
    const QuantFormat& f = job.weights;
    const bool grouped = f.granularity == Granularity::Group;
    const bool act_order = recipe.uses(Method::Gptq) && recipe.gptq.act_order;
    switch (job.format) {
        case ExportFormat::Gptq:
            return {{"quant_method", "gptq"},
                    {"bits", f.bits},
                    {"group_size", grouped ? f.group_size : -1},
                    {"desc_act", act_order},
                    {"sym", f.symmetric},
                    {"static_groups", recipe.gptq.static_groups},
                    {"true_sequential", recipe.gptq.true_sequential},
                    {"damp_percent", recipe.gptq.percdamp},
                    {"lm_head", false},
                    {"checkpoint_format", job.gptq_v2 ? "gptq_v2" : "gptq"}};
        case ExportFormat::Awq:
            return {{"quant_method", "awq"},      {"bits", f.bits},
                    {"group_size", f.group_size}, {"zero_point", true},
                    {"version", "gemm"},          {"modules_to_not_convert", nullptr}};
        case ExportFormat::CompressedTensors: {
            const bool scattered = act_order && !recipe.gptq.static_groups && grouped;
            nlohmann::json weights = {
                {"num_bits", f.bits},
                {"type", "int"},
                {"symmetric", f.symmetric},
                {"strategy", grouped ? "group" : "channel"},
                {"group_size", grouped ? nlohmann::json(f.group_size) : nlohmann::json(nullptr)},
                {"actorder", scattered ? nlohmann::json("group") : nlohmann::json(nullptr)},
                {"block_structure", nullptr},
                {"dynamic", false},
                {"observer", "minmax"},
                {"observer_kwargs", nlohmann::json::object()}};
            return compressed_tensors_config(weights, "pack-quantized", ignore);
        }
        default:
            throw QsError("int_quantization_config: not an integer layout");
    }
}

}  // namespace qs
