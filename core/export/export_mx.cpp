#include "core/export/export_mx.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/export/bit_packing.h"
#include "core/export/export_files.h"
#include "core/io/safetensors_reader.h"
#include "core/io/tensor_store.h"
#include "core/io/tensor_torch.h"
#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

constexpr int kE8M0Bias = 127;
constexpr std::uint8_t kE8M0Nan = 255;

struct ElementLayout {
    bool is_int = false;
    int bits = 0;     // total code bits
    int ebits = 0;    // FP exponent bits
    int mbits = 0;    // FP stored mantissa bits; INT fraction bits (d - 2)
    int bias = 0;     // FP exponent bias
    int min_exp = 0;  // FP lowest normal exponent
};

ElementLayout layout_of(MxElement element)
{
    const auto p = mx_element_params(element);
    ElementLayout l;
    l.is_int = p.ebits == 0;
    if (l.is_int) {
        l.bits = p.mbits;
        l.mbits = p.mbits - 2;
        return l;
    }
    l.ebits = p.ebits;
    l.mbits = p.mbits - 2;  // mbits counts the sign and the implicit bit
    l.bits = 1 + l.ebits + l.mbits;
    l.bias = (1 << (l.ebits - 1)) - 1;
    l.min_exp = 1 - l.bias;
    return l;
}

std::uint32_t float_bits(float v)
{
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
}

[[noreturn]] void off_grid(MxElement element, float value)
{
    QuantFormat f;
    f.kind = FormatKind::Mx;
    f.element = element;
    throw QsError("MX element " + f.name() + ": " + std::to_string(value) +
                  " is not on the element grid");
}

std::int64_t code_bytes(std::int64_t in, int bits)
{
    return (in * bits + 7) / 8;
}

QuantFormat format_from_config(const nlohmann::json& q, const std::string& dir)
{
    if (!q.is_object() || q.value("quant_method", "") != "quantscope-mx")
        fail_file(dir + "/config.json", "not a QuantScope MX checkpoint (quant_method)");
    return QuantFormat::parse(q.at("weights").get<std::string>());
}

}  // namespace

std::uint32_t mx_element_code(MxElement element, float value)
{
    const auto l = layout_of(element);
    if (!std::isfinite(value)) off_grid(element, value);
    const std::uint32_t sign = std::signbit(value) ? 1u : 0u;
    const double a = std::fabs(double(value));
    std::uint32_t code = 0;
    if (l.is_int) {
        const double k = std::ldexp(a, l.mbits);
        if (k != std::floor(k) || k >= double(1 << (l.bits - 1))) off_grid(element, value);
        code = (sign << (l.bits - 1)) | std::uint32_t(k);
    } else if (a != 0) {
        int e = std::ilogb(a);
        std::uint32_t field = 0;
        double m;
        if (e < l.min_exp) {
            m = std::ldexp(a, l.mbits - l.min_exp);
        } else {
            field = std::uint32_t(e + l.bias);
            m = std::ldexp(a, l.mbits - e) - std::ldexp(1.0, l.mbits);
        }
        if (m != std::floor(m) || m >= double(1 << l.mbits) || field >= (1u << l.ebits))
            off_grid(element, value);
        code = (field << l.mbits) | std::uint32_t(m);
    }
    if (!l.is_int) code |= sign << (l.ebits + l.mbits);
    if (float_bits(mx_element_value(element, code)) != float_bits(value)) off_grid(element, value);
    return code;
}

float mx_element_value(MxElement element, std::uint32_t code)
{
    const auto l = layout_of(element);
    const std::uint32_t sign_bit = 1u << (l.bits - 1);
    const std::uint32_t body = code & (sign_bit - 1);
    double a;
    if (l.is_int) {
        a = std::ldexp(double(body), -l.mbits);
    } else {
        const std::uint32_t field = body >> l.mbits, m = body & ((1u << l.mbits) - 1);
        a = field == 0 ? std::ldexp(double(m), l.min_exp - l.mbits)
                       : std::ldexp(1.0 + std::ldexp(double(m), -l.mbits), int(field) - l.bias);
    }
    const float v = float(a);
    return (code & sign_bit) ? -v : v;
}

MxPackedLinear mx_pack_linear(const torch::Tensor& weight, const QuantFormat& format,
                              const std::string& name)
{
    if (format.kind != FormatKind::Mx || weight.dim() != 2)
        throw QsError(name + ": MX packing needs a 2-D weight and an MX format");
    auto w = weight.to(torch::kCPU, torch::kFloat32).contiguous();
    auto enc = mx_encode(w, format.element, format.block_size, format.rounding);
    auto exps = enc.shared_exponent.to(torch::kInt32).contiguous();
    auto elems = enc.elements.to(torch::kFloat32).contiguous();
    MxPackedLinear p;
    p.out_features = w.size(0);
    p.in_features = w.size(1);
    const auto blocks = exps.size(1);
    const int bits = format.element_bits();
    const auto* e = exps.data_ptr<std::int32_t>();
    const auto* x = elems.data_ptr<float>();
    const auto* wp = w.data_ptr<float>();
    p.exponents.resize(std::size_t(p.out_features * blocks));
    std::vector<std::int32_t> codes(std::size_t(p.out_features * p.in_features), 0);
    for (std::int64_t r = 0; r < p.out_features; ++r)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const auto exp = e[r * blocks + b];
            p.exponents[std::size_t(r * blocks + b)] =
                exp == 128 ? kE8M0Nan : std::uint8_t(exp + kE8M0Bias);
            if (exp == 128) continue;  // NaN block: codes 0, the exponent says NaN
            const auto c1 = std::min(p.in_features, (b + 1) * format.block_size);
            for (auto c = b * format.block_size; c < c1; ++c) {
                // mx_encode's elements drop the sign of a zero that the dequantized weight
                // keeps (-0.0 * 2^e): take it from the weight.
                const auto i = r * p.in_features + c;
                const float v = x[i] == 0 ? std::copysign(0.0f, wp[i]) : x[i];
                codes[std::size_t(i)] = std::int32_t(mx_element_code(format.element, v));
            }
        }
    auto words = pack_bits(codes, p.out_features, p.in_features, bits, PackAxis::Cols, name);
    // Each row's words are a little-endian bit stream: its first code_bytes bytes are the row.
    const auto row_words = packed_words(p.in_features, bits);
    const auto row_bytes = code_bytes(p.in_features, bits);
    p.elements.resize(std::size_t(p.out_features * row_bytes));
    for (std::int64_t r = 0; r < p.out_features; ++r)
        std::memcpy(p.elements.data() + r * row_bytes, words.data() + r * row_words,
                    std::size_t(row_bytes));
    // The stored form must give back exactly the weight that was quantized.
    auto back = mx_unpack_linear(p, format);
    const auto* a = w.data_ptr<float>();
    const auto* d = back.data_ptr<float>();
    for (std::int64_t i = 0; i < w.numel(); ++i)
        if (float_bits(a[i]) != float_bits(d[i]) && !(std::isnan(a[i]) && std::isnan(d[i])))
            throw QsError(name + ": the MX encoding does not reproduce weight " +
                          std::to_string(i) + " (" + std::to_string(a[i]) + " vs " +
                          std::to_string(d[i]) + ")");
    return p;
}

torch::Tensor mx_unpack_linear(const MxPackedLinear& p, const QuantFormat& format)
{
    const int bits = format.element_bits();
    const auto row_words = packed_words(p.in_features, bits);
    const auto row_bytes = code_bytes(p.in_features, bits);
    const auto blocks = (p.in_features + format.block_size - 1) / format.block_size;
    require_size(p.elements.size(), p.out_features * row_bytes, "weight_mx", "MX linear");
    require_size(p.exponents.size(), p.out_features * blocks, "weight_exponent", "MX linear");
    std::vector<std::int32_t> words(std::size_t(p.out_features * row_words), 0);
    for (std::int64_t r = 0; r < p.out_features; ++r)
        std::memcpy(words.data() + r * row_words, p.elements.data() + r * row_bytes,
                    std::size_t(row_bytes));
    auto codes =
        unpack_bits(words, p.out_features, p.in_features, bits, PackAxis::Cols, "MX linear");
    auto out = torch::empty({p.out_features, p.in_features}, torch::kFloat32);
    auto* o = out.data_ptr<float>();
    for (std::int64_t r = 0; r < p.out_features; ++r)
        for (std::int64_t c = 0; c < p.in_features; ++c) {
            const auto byte = p.exponents[std::size_t(r * blocks + c / format.block_size)];
            // element * 2^e in float32, as mx_quantize_dequantize (exact powers of two).
            const float scale =
                byte == kE8M0Nan ? std::nanf("") : std::ldexp(1.0f, int(byte) - kE8M0Bias);
            o[r * p.in_features + c] =
                mx_element_value(format.element,
                                 std::uint32_t(codes[std::size_t(r * p.in_features + c)])) *
                scale;
        }
    return out;
}

void write_mx_checkpoint(const std::string& fake_dir, const std::string& out_dir,
                         const QuantFormat& weights, const std::vector<std::string>& linear_names)
{
    const std::set<std::string> linears(linear_names.begin(), linear_names.end());
    rewrite_shards(
        fake_dir, out_dir,
        [&](const ShardTensor& tensor, SafetensorsWriter& writer, std::vector<std::string>& names) {
            const std::string& name = tensor.name;
            if (!linears.count(name)) {
                TensorView v = tensor.reader.view(name);
                writer.add(name, tensor.info.dtype, tensor.info.shape,
                           std::vector<std::uint8_t>(v.data, v.data + v.size_bytes));
                names.push_back(name);
                return;
            }
            const std::string module = name.substr(0, name.size() - std::string(".weight").size());
            auto packed = mx_pack_linear(load_tensor(tensor.store, name), weights, name);
            const auto row_bytes = std::int64_t(packed.elements.size()) / packed.out_features;
            add_array(writer, module + ".weight_mx", DType::U8, {packed.out_features, row_bytes},
                      packed.elements);
            add_array(
                writer, module + ".weight_exponent", DType::U8,
                {packed.out_features, std::int64_t(packed.exponents.size()) / packed.out_features},
                packed.exponents);
            add_array(writer, module + ".weight_shape", DType::I64, {2},
                      std::vector<std::int64_t>{packed.out_features, packed.in_features});
            names.insert(names.end(), {module + ".weight_mx", module + ".weight_exponent",
                                       module + ".weight_shape"});
        });
}

std::map<std::string, torch::Tensor> read_mx_checkpoint(const std::string& dir)
{
    auto config = read_json(dir + "/config.json");
    const QuantFormat format =
        format_from_config(config.value("quantization_config", nlohmann::json()), dir);
    auto store = TensorStore::open_dir(dir);
    std::map<std::string, torch::Tensor> out;
    auto bytes_of = [&](const std::string& name) {
        TensorView v = store->view(name);
        return std::vector<std::uint8_t>(v.data, v.data + v.size_bytes);
    };
    const std::string suffix = ".weight_mx";
    for (const auto& name : store->names()) {
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            const auto module = name.substr(0, name.size() - suffix.size());
            MxPackedLinear p;
            auto shape_bytes = bytes_of(module + ".weight_shape");
            if (shape_bytes.size() != 16) fail_file(dir, module + ".weight_shape must be I64 [2]");
            std::int64_t shape[2];
            std::memcpy(shape, shape_bytes.data(), 16);
            p.out_features = shape[0];
            p.in_features = shape[1];
            p.elements = bytes_of(name);
            p.exponents = bytes_of(module + ".weight_exponent");
            try {
                out[module + ".weight"] = mx_unpack_linear(p, format);
            } catch (const QsError& e) {
                fail_file(dir, module + ": " + e.what());
            }
            continue;
        }
        if (name.find(".weight_exponent") != std::string::npos ||
            name.find(".weight_shape") != std::string::npos)
            continue;
        out[name] = load_tensor(*store, name);
    }
    return out;
}

}  // namespace qs
