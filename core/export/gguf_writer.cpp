#include "core/export/gguf_writer.h"

#include <bit>
#include <cstring>
#include <ostream>
#include <set>
#include <variant>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

static_assert(std::endian::native == std::endian::little,
              "GGUF is written little-endian; a big-endian host needs byte swaps here");

namespace qs::gguf {

namespace {

// Counts bytes written so padding can be computed without tellp() on the atomic stream.
class LeStream {
public:
    explicit LeStream(std::ostream& out) : m_out(out) {}
    template <typename T>
    void pod(T v)
    {
        m_out.write(reinterpret_cast<const char*>(&v), sizeof(T));
        m_pos += sizeof(T);
    }
    void bytes(const void* p, std::size_t n)
    {
        m_out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
        m_pos += n;
    }
    void str(const std::string& s)
    {
        pod<std::uint64_t>(s.size());
        bytes(s.data(), s.size());
    }
    void pad_to(std::uint64_t alignment)
    {
        static const char kZeros[256] = {};
        while (m_pos % alignment != 0) {
            const std::size_t n = std::min<std::uint64_t>(alignment - m_pos % alignment, 256);
            bytes(kZeros, n);
        }
    }
    std::uint64_t pos() const { return m_pos; }

private:
    std::ostream& m_out;
    std::uint64_t m_pos = 0;
};

void write_scalar(LeStream& out, const Scalar& s)
{
    std::visit(
        [&out](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>)
                out.str(v);
            else if constexpr (std::is_same_v<T, bool>)
                out.pod<std::uint8_t>(v ? 1 : 0);
            else
                out.pod<T>(v);
        },
        s);
}

std::uint64_t align_up(std::uint64_t x, std::uint64_t a)
{
    return (x + a - 1) / a * a;
}

}  // namespace

void GgufWriter::set(const std::string& key, Value value)
{
    if (key.empty()) throw QsError("GGUF: empty metadata key");
    if (value.is_array()) {
        if (value.array_type == ValueType::Array)
            throw QsError("GGUF key '" + key + "': nested arrays are not supported");
        for (const auto& item : value.array)
            if (scalar_value_type(item) != value.array_type)
                throw QsError("GGUF key '" + key + "': array of " +
                              value_type_name(value.array_type) + " holds a " +
                              value_type_name(scalar_value_type(item)));
    } else if (scalar_value_type(value.scalar) != value.type) {
        throw QsError("GGUF key '" + key + "': value tagged " + value_type_name(value.type) +
                      " holds a " + value_type_name(scalar_value_type(value.scalar)));
    }
    if (key == kAlignmentKey) {
        if (value.type != ValueType::UInt32)
            throw QsError(std::string("GGUF key '") + kAlignmentKey + "' must be a uint32");
        const auto a = std::get<std::uint32_t>(value.scalar);
        if (a == 0 || (a & (a - 1)) != 0)
            throw QsError(std::string("GGUF key '") + kAlignmentKey +
                          "' must be a power of two, not " + std::to_string(a));
        m_alignment = a;
    }
    for (auto& [k, v] : m_kv) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    m_kv.emplace_back(key, std::move(value));
}

const Value* GgufWriter::find(const std::string& key) const
{
    for (const auto& [k, v] : m_kv)
        if (k == key) return &v;
    return nullptr;
}

std::size_t GgufWriter::check_tensor(const std::string& name,
                                     const std::vector<std::uint64_t>& dims, TensorType type) const
{
    const std::string what = "GGUF tensor '" + name + "': ";
    if (name.empty()) throw QsError("GGUF: empty tensor name");
    if (name.size() > kMaxName)
        throw QsError(what + "name longer than " + std::to_string(kMaxName) + " bytes");
    for (const auto& t : m_tensors)
        if (t.name == name) throw QsError(what + "added twice");
    if (dims.empty() || dims.size() > static_cast<std::size_t>(kMaxDims))
        throw QsError(what + std::to_string(dims.size()) + " dimensions (1 to 4 allowed)");
    const auto& traits = tensor_type_traits(type);
    if (dims[0] % static_cast<std::uint64_t>(traits.block_size) != 0)
        throw QsError(what + "innermost dimension " + std::to_string(dims[0]) +
                      " is not a multiple of the " + traits.name + " block size " +
                      std::to_string(traits.block_size));
    std::uint64_t n = 1;
    for (auto d : dims) {
        if (d != 0 && n > UINT64_MAX / d) throw QsError(what + "element count overflows");
        n *= d;
    }
    return *tensor_bytes(type, n);
}

void GgufWriter::add_tensor(const std::string& name, std::vector<std::uint64_t> dims,
                            TensorType type, std::vector<std::uint8_t> data)
{
    const std::size_t bytes = check_tensor(name, dims, type);
    if (data.size() != bytes)
        throw QsError("GGUF tensor '" + name + "': " + std::to_string(data.size()) +
                      " bytes given, " + tensor_type_name(type) + " of this shape needs " +
                      std::to_string(bytes));
    m_tensors.push_back({name, std::move(dims), type, bytes, std::move(data), {}});
}

void GgufWriter::add_tensor(const std::string& name, std::vector<std::uint64_t> dims,
                            TensorType type, DataProducer produce)
{
    const std::size_t bytes = check_tensor(name, dims, type);
    if (!produce) throw QsError("GGUF tensor '" + name + "': no data producer");
    m_tensors.push_back({name, std::move(dims), type, bytes, {}, std::move(produce)});
}

void GgufWriter::write(const std::string& path) const
{
    write_file_atomically(path, [this, &path](std::ostream& os) {
        LeStream out(os);
        out.pod<std::uint32_t>(kMagic);
        out.pod<std::uint32_t>(kVersion);
        out.pod<std::uint64_t>(m_tensors.size());
        out.pod<std::uint64_t>(m_kv.size());
        for (const auto& [key, value] : m_kv) {
            out.str(key);
            out.pod<std::uint32_t>(static_cast<std::uint32_t>(value.type));
            if (!value.is_array()) {
                write_scalar(out, value.scalar);
                continue;
            }
            out.pod<std::uint32_t>(static_cast<std::uint32_t>(value.array_type));
            out.pod<std::uint64_t>(value.array.size());
            for (const auto& item : value.array)
                write_scalar(out, item);
        }
        std::uint64_t offset = 0;  // relative to the start of the data section
        for (const auto& t : m_tensors) {
            out.str(t.name);
            out.pod<std::uint32_t>(static_cast<std::uint32_t>(t.dims.size()));
            for (auto d : t.dims)
                out.pod<std::uint64_t>(d);
            out.pod<std::uint32_t>(static_cast<std::uint32_t>(t.type));
            out.pod<std::uint64_t>(offset);
            offset = align_up(offset + t.bytes, m_alignment);
        }
        out.pad_to(m_alignment);
        for (const auto& t : m_tensors) {
            if (!t.produce) {
                out.bytes(t.data.data(), t.data.size());
            } else {
                const std::vector<std::uint8_t> data = t.produce();
                if (data.size() != t.bytes)
                    fail_file(path, "tensor '" + t.name + "' produced " +
                                        std::to_string(data.size()) + " bytes, expected " +
                                        std::to_string(t.bytes));
                out.bytes(data.data(), data.size());
            }
            out.pad_to(m_alignment);
        }
    });
}

}  // namespace qs::gguf
