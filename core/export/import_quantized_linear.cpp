#include "core/export/import_quantized_linear.h"

#include <cstring>

#include <torch/torch.h>

#include "core/export/awq_packing.h"
#include "core/export/bit_packing.h"
#include "core/export/compressed_tensors_packing.h"
#include "core/export/gptq_packing.h"
#include "core/io/tensor_torch.h"
#include "core/util/error.h"

namespace qs {
namespace {

// The file a message should name: the single safetensors file, or the checkpoint folder when
// the tensors are sharded.
std::string store_name(const TensorStore& store)
{
    const auto files = store.files();
    return files.size() == 1 ? files.front() : store.location();
}

class LinearReader {
public:
    LinearReader(const TensorStore& store, std::string module)
        : m_store(store), m_module(std::move(module))
    {
    }

    [[noreturn]] void fail(const std::string& problem) const
    {
        fail_file(store_name(m_store), m_module + ": " + problem);
    }

    bool has(const std::string& suffix) const { return m_store.contains(m_module + suffix); }

    const TensorInfo& info(const std::string& suffix) const
    {
        if (!has(suffix)) fail("missing tensor '" + m_module + suffix + "'");
        return m_store.info(m_module + suffix);
    }

    std::vector<std::int64_t> shape(const std::string& suffix, std::size_t rank) const
    {
        const auto& i = info(suffix);
        if (i.shape.size() != rank)
            fail("tensor '" + m_module + suffix + "' has shape " + shape_text(i.shape) +
                 ", expected " + std::to_string(rank) + " dimensions");
        return i.shape;
    }

    void require_shape(const std::string& suffix, const std::vector<std::int64_t>& expected) const
    {
        const auto& i = info(suffix);
        if (i.shape != expected)
            fail("tensor '" + m_module + suffix + "' has shape " + shape_text(i.shape) +
                 ", expected " + shape_text(expected));
    }

    // Integer tensor (I32, or I64 values that fit) as int32.
    std::vector<std::int32_t> ints(const std::string& suffix) const
    {
        const auto& i = info(suffix);
        const TensorView view = m_store.view(m_module + suffix);
        const auto n = static_cast<std::size_t>(i.numel());
        std::vector<std::int32_t> out(n);
        if (i.dtype == DType::I32) {
            std::memcpy(out.data(), view.data, n * sizeof(std::int32_t));
        } else if (i.dtype == DType::I64) {
            for (std::size_t k = 0; k < n; ++k) {
                std::int64_t v = 0;
                std::memcpy(&v, view.data + k * sizeof(v), sizeof(v));
                out[k] = static_cast<std::int32_t>(v);
            }
        } else {
            fail("tensor '" + m_module + suffix + "' has dtype " + dtype_name(i.dtype) +
                 ", expected I32");
        }
        m_store.release(m_module + suffix);
        return out;
    }

    // U8 tensor as stored.
    std::vector<std::uint8_t> bytes(const std::string& suffix) const
    {
        const auto& i = info(suffix);
        if (i.dtype != DType::U8)
            fail("tensor '" + m_module + suffix + "' has dtype " + dtype_name(i.dtype) +
                 ", expected U8");
        const TensorView view = m_store.view(m_module + suffix);
        std::vector<std::uint8_t> out(view.data, view.data + view.size_bytes);
        m_store.release(m_module + suffix);
        return out;
    }

    // Float tensor (F16, BF16, F32) widened to float32, row-major.
    std::vector<float> floats(const std::string& suffix) const
    {
        const auto& i = info(suffix);
        if (!dtype_is_float(i.dtype))
            fail("tensor '" + m_module + suffix + "' has dtype " + dtype_name(i.dtype) +
                 ", expected a float type");
        auto t = load_tensor(m_store, m_module + suffix).contiguous();
        m_store.release(m_module + suffix);
        return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    }

    const std::string& module() const { return m_module; }

private:
    const TensorStore& m_store;
    std::string m_module;
};

// scale * (q - zero) in float32, with the scales [out, groups] as stored (any float dtype):
// the same arithmetic as IntQuantizedLinear::dequantize, whose scales are fp16 bit patterns.
DequantizedLinear dequantize(const IntQuantizedLinear& q, const std::vector<float>& scales)
{
    const std::int64_t groups = q.groups();
    DequantizedLinear d{q.out_features, q.in_features, std::vector<float>(q.codes.size())};
    for (std::int64_t o = 0; o < q.out_features; ++o)
        for (std::int64_t c = 0; c < q.in_features; ++c) {
            const std::int64_t g = o * groups + q.group_of(c);
            d.weight[o * q.in_features + c] =
                scales[g] * static_cast<float>(q.codes[o * q.in_features + c] - q.zeros[g]);
        }
    return d;
}

std::int64_t resolved_group_size(std::int64_t group_size, std::int64_t in_features)
{
    return group_size > 0 ? group_size : in_features;
}

DequantizedLinear dequantize_gptq(const LinearReader& r, const PackedScheme& scheme)
{
    const int bits = scheme.bits;
    const auto qweight_shape = r.shape(".qweight", 2);
    GptqPacked p;
    p.bits = bits;
    p.out_features = qweight_shape[1];
    if ((qweight_shape[0] * 32) % bits != 0)
        r.fail("qweight rows " + std::to_string(qweight_shape[0]) + " do not hold whole " +
               std::to_string(bits) + "-bit codes");
    p.in_features = qweight_shape[0] * 32 / bits;
    const auto scales_shape = r.shape(".scales", 2);
    p.groups = scales_shape[0];
    r.require_shape(".scales", {p.groups, p.out_features});
    r.require_shape(".qzeros", {p.groups, p.out_features * bits / 32});
    p.zero_format = scheme.gptq_v2 ? GptqZeroFormat::V2 : GptqZeroFormat::V1;
    p.qweight = r.ints(".qweight");
    p.qzeros = r.ints(".qzeros");
    p.scales.assign(static_cast<std::size_t>(p.groups * p.out_features), 0);
    const std::int64_t group_size = resolved_group_size(scheme.group_size, p.in_features);
    bool g_idx_ignored = false;
    // Loaders follow g_idx only under desc_act (vLLM, the exllama kernels); otherwise a column's
    // group is c / group_size, which is also what a consistent file stores.
    if (scheme.desc_act && r.has(".g_idx")) {
        r.require_shape(".g_idx", {p.in_features});
        p.g_idx = r.ints(".g_idx");
    } else {
        p.g_idx.resize(static_cast<std::size_t>(p.in_features));
        for (std::int64_t c = 0; c < p.in_features; ++c)
            p.g_idx[c] = static_cast<std::int32_t>(c / group_size);
        if (r.has(".g_idx") && r.info(".g_idx").shape == std::vector<std::int64_t>{p.in_features})
            g_idx_ignored = r.ints(".g_idx") != p.g_idx;
    }
    IntQuantizedLinear q;
    try {
        q = gptq_unpack(p, group_size);
    } catch (const QsError& e) {
        r.fail(e.what());
    }
    DequantizedLinear d = dequantize(q, transposed(r.floats(".scales"), p.groups, p.out_features));
    d.g_idx_ignored = g_idx_ignored;
    return d;
}

DequantizedLinear dequantize_awq(const LinearReader& r, const PackedScheme& scheme)
{
    if (scheme.bits != 4)
        r.fail("AWQ GEMM checkpoints hold 4-bit codes, config says " + std::to_string(scheme.bits));
    const auto qweight_shape = r.shape(".qweight", 2);
    AwqPacked p;
    p.in_features = qweight_shape[0];
    p.out_features = qweight_shape[1] * 8;
    p.group_size = resolved_group_size(scheme.group_size, p.in_features);
    const auto scales_shape = r.shape(".scales", 2);
    p.groups = scales_shape[0];
    r.require_shape(".scales", {p.groups, p.out_features});
    r.require_shape(".qzeros", {p.groups, p.out_features / 8});
    p.qweight = r.ints(".qweight");
    p.qzeros = r.ints(".qzeros");
    p.scales.assign(static_cast<std::size_t>(p.groups * p.out_features), 0);
    IntQuantizedLinear q;
    try {
        q = awq_unpack(p);
    } catch (const QsError& e) {
        r.fail(e.what());
    }
    return dequantize(q, transposed(r.floats(".scales"), p.groups, p.out_features));
}

DequantizedLinear dequantize_mxfp4(const LinearReader& r)
{
    const auto packed_shape = r.shape(".weight_packed", 2);
    Mxfp4Packed p;
    p.out_features = packed_shape[0];
    p.in_features = packed_shape[1] * 2;
    if (r.has(".weight_shape")) {
        r.require_shape(".weight_shape", {2});
        const auto shape = r.ints(".weight_shape");
        if (shape[0] != p.out_features || shape[1] != p.in_features)
            r.fail("weight_shape [" + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
                   "] does not match weight_packed " + shape_text(packed_shape));
    }
    if (p.in_features % kMxfp4BlockSize != 0)
        r.fail(std::to_string(p.in_features) + " input columns are not whole MXFP4 blocks of 32");
    r.require_shape(".weight_scale", p.weight_scale_shape());
    p.weight_packed = r.bytes(".weight_packed");
    p.weight_scale = r.bytes(".weight_scale");
    DequantizedLinear d{p.out_features, p.in_features, {}};
    try {
        d.weight = mxfp4_dequantize(p);
    } catch (const QsError& e) {
        r.fail(e.what());
    }
    return d;
}

DequantizedLinear dequantize_compressed_tensors(const LinearReader& r, const PackedScheme& scheme)
{
    if (scheme.mxfp4) return dequantize_mxfp4(r);
    const int bits = scheme.bits;
    r.require_shape(".weight_shape", {2});
    const auto weight_shape = r.ints(".weight_shape");
    CompressedTensorsPacked p;
    p.bits = bits;
    p.out_features = weight_shape[0];
    p.in_features = weight_shape[1];
    p.weight_shape = {p.out_features, p.in_features};
    r.require_shape(".weight_packed", {p.out_features, (p.in_features * bits + 31) / 32});
    const auto scale_shape = r.shape(".weight_scale", 2);
    p.groups = scale_shape[1];
    r.require_shape(".weight_scale", {p.out_features, p.groups});
    p.symmetric = !r.has(".weight_zero_point");
    if (!p.symmetric) {
        r.require_shape(".weight_zero_point", {(p.out_features * bits + 31) / 32, p.groups});
        p.weight_zero_point = r.ints(".weight_zero_point");
    }
    if (r.has(".weight_g_idx")) {
        r.require_shape(".weight_g_idx", {p.in_features});
        p.weight_g_idx = r.ints(".weight_g_idx");
    }
    p.weight_packed = r.ints(".weight_packed");
    p.weight_scale.assign(static_cast<std::size_t>(p.out_features * p.groups), 0);
    std::int64_t group_size = scheme.group_size;
    if (group_size <= 0) group_size = (p.in_features + p.groups - 1) / p.groups;
    IntQuantizedLinear q;
    try {
        q = compressed_tensors_unpack(p, group_size);
    } catch (const QsError& e) {
        r.fail(e.what());
    }
    return dequantize(q, r.floats(".weight_scale"));
}

}  // namespace

const std::vector<std::string>& packed_suffixes(PackedScheme::Kind kind)
{
    static const std::vector<std::string> gptq = {".qweight", ".qzeros", ".scales", ".g_idx"};
    static const std::vector<std::string> awq = {".qweight", ".qzeros", ".scales"};
    static const std::vector<std::string> ct = {
        ".weight_packed", ".weight_scale", ".weight_zero_point", ".weight_g_idx", ".weight_shape"};
    switch (kind) {
        case PackedScheme::Kind::Gptq:
            return gptq;
        case PackedScheme::Kind::Awq:
            return awq;
        case PackedScheme::Kind::CompressedTensors:
            return ct;
    }
    return gptq;
}

std::string packed_marker(PackedScheme::Kind kind)
{
    return kind == PackedScheme::Kind::CompressedTensors ? ".weight_packed" : ".qweight";
}

DequantizedLinear dequantize_packed_linear(const TensorStore& store, const std::string& module,
                                           const PackedScheme& scheme)
{
    const LinearReader reader(store, module);
    switch (scheme.kind) {
        case PackedScheme::Kind::Gptq:
            return dequantize_gptq(reader, scheme);
        case PackedScheme::Kind::Awq:
            return dequantize_awq(reader, scheme);
        case PackedScheme::Kind::CompressedTensors:
            return dequantize_compressed_tensors(reader, scheme);
    }
    reader.fail("unknown packing");
}

}  // namespace qs
