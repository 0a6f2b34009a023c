#include "core/export/gguf_reader.h"

#include <cstdio>
#include <cstring>
#include <set>

#include "core/export/gguf_blocks.h"
#include "core/util/error.h"

namespace qs::gguf {

namespace {

std::string hex32(std::uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

// Bounds-checked little-endian cursor over the mapped bytes; every overrun is "truncated".
class Cursor {
public:
    Cursor(const std::string& path, const std::uint8_t* data, std::size_t size)
        : m_path(path), m_data(data), m_size(size)
    {
    }
    void need(std::uint64_t n, const std::string& what) const
    {
        if (n > m_size - m_pos)
            fail_file(m_path, "truncated: " + what + " needs " + std::to_string(n) +
                                  " bytes at offset " + std::to_string(m_pos) + ", the file has " +
                                  std::to_string(m_size));
    }
    template <typename T>
    T pod(const std::string& what)
    {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return v;
    }
    std::string str(const std::string& what)
    {
        const auto n = pod<std::uint64_t>(what + " length");
        need(n, what);
        std::string s(reinterpret_cast<const char*>(m_data + m_pos), n);
        m_pos += n;
        return s;
    }
    std::size_t pos() const { return m_pos; }
    std::size_t remaining() const { return m_size - m_pos; }

private:
    const std::string& m_path;
    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
};

Scalar read_scalar(Cursor& in, ValueType type, const std::string& path, const std::string& what)
{
    switch (type) {
        case ValueType::UInt8:
            return in.pod<std::uint8_t>(what);
        case ValueType::Int8:
            return in.pod<std::int8_t>(what);
        case ValueType::UInt16:
            return in.pod<std::uint16_t>(what);
        case ValueType::Int16:
            return in.pod<std::int16_t>(what);
        case ValueType::UInt32:
            return in.pod<std::uint32_t>(what);
        case ValueType::Int32:
            return in.pod<std::int32_t>(what);
        case ValueType::Float32:
            return in.pod<float>(what);
        case ValueType::UInt64:
            return in.pod<std::uint64_t>(what);
        case ValueType::Int64:
            return in.pod<std::int64_t>(what);
        case ValueType::Float64:
            return in.pod<double>(what);
        case ValueType::String:
            return in.str(what);
        case ValueType::Bool: {
            const auto b = in.pod<std::uint8_t>(what);
            if (b > 1) fail_file(path, what + " is a bool holding " + std::to_string(b));
            return b == 1;
        }
        case ValueType::Array:
            break;
    }
    fail_file(path, what + ": nested arrays are not supported");
}

bool known_value_type(std::uint32_t t)
{
    return t <= static_cast<std::uint32_t>(ValueType::Float64);
}

// Smallest encoded size of one value of a type, to bound counts before reserving memory.
std::uint64_t min_value_bytes(ValueType t)
{
    switch (t) {
        case ValueType::UInt8:
        case ValueType::Int8:
        case ValueType::Bool:
            return 1;
        case ValueType::UInt16:
        case ValueType::Int16:
            return 2;
        case ValueType::UInt32:
        case ValueType::Int32:
        case ValueType::Float32:
            return 4;
        default:
            return 8;
    }
}

}  // namespace

GgufReader::GgufReader(const std::string& path) : m_file(path)
{
    parse();
}

void GgufReader::parse()
{
    const std::string& path = m_file.path();
    Cursor in(path, m_file.data(), m_file.size());
    if (m_file.size() < 4) fail_file(path, "not a GGUF file: too short for the magic");
    const auto magic = in.pod<std::uint32_t>("magic");
    if (magic != kMagic)
        fail_file(path, "not a GGUF file: bad magic " + hex32(magic) + " (expected \"GGUF\")");
    m_version = in.pod<std::uint32_t>("version");
    if (m_version == 0x02000000 || m_version == 0x03000000)
        fail_file(path, "big-endian GGUF is not supported");
    if (m_version != 2 && m_version != 3)
        fail_file(path, "unsupported GGUF version " + std::to_string(m_version) +
                            " (QuantScope reads versions 2 and 3)");
    const auto n_tensors = in.pod<std::uint64_t>("tensor count");
    const auto n_kv = in.pod<std::uint64_t>("key/value count");
    // Every key/value takes at least 13 bytes and every tensor info 28: a larger count can
    // only be a truncated or corrupt file, caught before any allocation.
    if (n_kv > in.remaining() / 13)
        fail_file(path, "truncated: " + std::to_string(n_kv) + " key/values cannot fit in " +
                            std::to_string(in.remaining()) + " bytes");
    std::set<std::string> seen;
    for (std::uint64_t i = 0; i < n_kv; ++i) {
        std::string key = in.str("key " + std::to_string(i));
        if (!seen.insert(key).second) fail_file(path, "duplicate key '" + key + "'");
        const auto t = in.pod<std::uint32_t>("type of key '" + key + "'");
        if (!known_value_type(t))
            fail_file(path, "key '" + key + "' has unknown value type " + std::to_string(t));
        Value v;
        v.type = static_cast<ValueType>(t);
        const std::string what = "value of key '" + key + "'";
        if (v.type != ValueType::Array) {
            v.scalar = read_scalar(in, v.type, path, what);
        } else {
            const auto et = in.pod<std::uint32_t>("element type of key '" + key + "'");
            if (!known_value_type(et))
                fail_file(path, "key '" + key + "' is an array of unknown value type " +
                                    std::to_string(et));
            v.array_type = static_cast<ValueType>(et);
            if (v.array_type == ValueType::Array)
                fail_file(path, "key '" + key + "': nested arrays are not supported");
            const auto n = in.pod<std::uint64_t>("length of key '" + key + "'");
            if (n > in.remaining() / min_value_bytes(v.array_type))
                fail_file(path, "truncated: array '" + key + "' of " + std::to_string(n) +
                                    " elements cannot fit in " + std::to_string(in.remaining()) +
                                    " bytes");
            v.array.reserve(n);
            for (std::uint64_t j = 0; j < n; ++j)
                v.array.push_back(read_scalar(in, v.array_type, path, what));
        }
        if (key == kAlignmentKey) {
            if (v.type != ValueType::UInt32)
                fail_file(path, std::string(kAlignmentKey) + " is a " + value_type_name(v.type) +
                                    ", not a uint32");
            const auto a = std::get<std::uint32_t>(v.scalar);
            if (a == 0 || (a & (a - 1)) != 0)
                fail_file(path, std::string(kAlignmentKey) + " " + std::to_string(a) +
                                    " is not a power of two");
            m_alignment = a;
        }
        m_kv.emplace_back(std::move(key), std::move(v));
    }

    if (n_tensors > in.remaining() / 28)
        fail_file(path, "truncated: " + std::to_string(n_tensors) + " tensor infos cannot fit in " +
                            std::to_string(in.remaining()) + " bytes");
    std::set<std::string> names;
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
        TensorInfo info;
        info.name = in.str("tensor name " + std::to_string(i));
        const std::string tn = "tensor '" + info.name + "'";
        if (!names.insert(info.name).second) fail_file(path, "duplicate " + tn);
        const auto n_dims = in.pod<std::uint32_t>("dimension count of " + tn);
        if (n_dims == 0 || n_dims > static_cast<std::uint32_t>(kMaxDims))
            fail_file(path, tn + " has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
        info.n_elements = 1;
        for (std::uint32_t d = 0; d < n_dims; ++d) {
            const auto dim = in.pod<std::uint64_t>("dimensions of " + tn);
            if (dim > static_cast<std::uint64_t>(INT64_MAX) ||
                (dim != 0 && info.n_elements > static_cast<std::uint64_t>(INT64_MAX) / dim))
                fail_file(path, tn + " has an element count that overflows");
            info.dims.push_back(dim);
            info.n_elements *= dim;
        }
        const auto type = in.pod<std::uint32_t>("type of " + tn);
        const TensorTypeTraits* traits = find_tensor_type(type);
        if (!traits)
            fail_file(path, tn + " has unknown or unsupported ggml type " + std::to_string(type));
        info.type = traits->type;
        if (info.dims[0] % static_cast<std::uint64_t>(traits->block_size) != 0)
            fail_file(path, tn + " innermost dimension " + std::to_string(info.dims[0]) +
                                " is not a multiple of the " + traits->name + " block size " +
                                std::to_string(traits->block_size));
        info.n_bytes = *tensor_bytes(info.type, info.n_elements);
        info.offset = in.pod<std::uint64_t>("offset of " + tn);
        if (info.offset % m_alignment != 0)
            fail_file(path, tn + " offset " + std::to_string(info.offset) +
                                " is not a multiple of the alignment " +
                                std::to_string(m_alignment));
        m_tensors.push_back(std::move(info));
    }

    m_data_offset = (in.pos() + m_alignment - 1) / m_alignment * m_alignment;
    const std::uint64_t data_size =
        m_file.size() >= m_data_offset ? m_file.size() - m_data_offset : 0;
    for (const auto& t : m_tensors) {
        if (t.offset > data_size || t.n_bytes > data_size - t.offset)
            fail_file(path, "tensor '" + t.name + "' data [" + std::to_string(t.offset) + ", " +
                                std::to_string(t.offset + t.n_bytes) +
                                ") is out of range: the data section holds " +
                                std::to_string(data_size) + " bytes");
    }
}

const Value* GgufReader::find(const std::string& key) const
{
    for (const auto& [k, v] : m_kv)
        if (k == key) return &v;
    return nullptr;
}

const Value& GgufReader::get(const std::string& key) const
{
    const Value* v = find(key);
    if (!v) fail_file(path(), "missing key '" + key + "'");
    return *v;
}

const TensorInfo* GgufReader::find_tensor(const std::string& name) const
{
    for (const auto& t : m_tensors)
        if (t.name == name) return &t;
    return nullptr;
}

const TensorInfo& GgufReader::tensor(const std::string& name) const
{
    const TensorInfo* t = find_tensor(name);
    if (!t) fail_file(path(), "no tensor '" + name + "'");
    return *t;
}

std::span<const std::uint8_t> GgufReader::tensor_data(const TensorInfo& info) const
{
    return {m_file.data() + m_data_offset + info.offset, info.n_bytes};
}

std::vector<float> GgufReader::dequantize(const TensorInfo& info) const
{
    return dequantize_blocks(info.type, tensor_data(info), info.n_elements);
}

}  // namespace qs::gguf
