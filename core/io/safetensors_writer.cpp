// Layout matches the safetensors reference serializer: tensors in name order (nlohmann's
// object is a sorted map), contiguous data_offsets starting at 0, and the JSON header padded
// with spaces to a multiple of 8 so the data buffer starts 8-byte aligned in the file.
#include "core/io/safetensors_writer.h"

#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/util/atomic_file.h"
#include "core/io/dtype.h"
#include "core/util/error.h"

namespace qs {

namespace {

std::int64_t checked_numel(const std::string& name, const std::vector<std::int64_t>& shape)
{
    std::int64_t n = 1;
    for (auto d : shape) {
        if (d < 0)
            throw QsError("safetensors writer: tensor '" + name + "': negative dimension in " +
                          shape_text(shape));
        n *= d;
    }
    return n;
}

}  // namespace

void SafetensorsWriter::add_entry(const std::string& name, Entry entry)
{
    if (name.empty() || name == "__metadata__")
        throw QsError("safetensors writer: invalid tensor name '" + name + "'");
    if (m_entries.count(name))
        throw QsError("safetensors writer: tensor '" + name + "' added twice");
    const auto expected =
        static_cast<std::size_t>(checked_numel(name, entry.shape)) * dtype_size(entry.dtype);
    if (entry.size != expected)
        throw QsError("safetensors writer: tensor '" + name + "': " + std::to_string(entry.size) +
                      " bytes given, dtype " + dtype_name(entry.dtype) + " x shape " +
                      shape_text(entry.shape) + " needs " + std::to_string(expected));
    m_entries.emplace(name, std::move(entry));
}

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<std::int64_t> shape,
                            std::vector<std::uint8_t> bytes)
{
    const auto size = bytes.size();
    add_entry(name, Entry{dtype, std::move(shape), std::move(bytes), nullptr, size});
}

void SafetensorsWriter::add_borrowed(const std::string& name, DType dtype,
                                     std::vector<std::int64_t> shape, const void* data)
{
    const auto size = static_cast<std::size_t>(checked_numel(name, shape)) * dtype_size(dtype);
    if (size > 0 && !data) throw QsError("safetensors writer: tensor '" + name + "': no data");
    add_entry(name,
              Entry{dtype, std::move(shape), {}, static_cast<const std::uint8_t*>(data), size});
}

void SafetensorsWriter::add_f32(const std::string& name, std::vector<std::int64_t> shape,
                                const float* values)
{
    // Host floats are little-endian on every platform QuantScope builds for (x86-64, aarch64).
    const auto n = static_cast<std::size_t>(checked_numel(name, shape));
    std::vector<std::uint8_t> bytes(n * sizeof(float));
    if (n > 0) std::memcpy(bytes.data(), values, bytes.size());
    add(name, DType::F32, std::move(shape), std::move(bytes));
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value)
{
    m_metadata[key] = value;
}

void SafetensorsWriter::write(const std::string& path) const
{
    nlohmann::json header = nlohmann::json::object();
    std::uint64_t offset = 0;
    for (const auto& [name, entry] : m_entries) {
        const std::uint64_t end = offset + entry.size;
        header[name] = {{"dtype", dtype_name(entry.dtype)},
                        {"shape", entry.shape},
                        {"data_offsets", {offset, end}}};
        offset = end;
    }
    if (!m_metadata.empty()) header["__metadata__"] = m_metadata;

    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<std::uint8_t>(text.size() >> (8 * i));

    write_file_atomically(path, [&](std::ostream& out) {
        out.write(reinterpret_cast<const char*>(length), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const auto& [name, entry] : m_entries)
            out.write(reinterpret_cast<const char*>(entry.data()),
                      static_cast<std::streamsize>(entry.size));
    });
}

void write_safetensors_index(const std::string& dir,
                             const std::map<std::string, std::string>& weight_map,
                             std::size_t total_size)
{
    nlohmann::json index = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
    const std::string text = index.dump(2) + "\n";
    const std::string path = (std::filesystem::path(dir) / "model.safetensors.index.json").string();
    write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

}  // namespace qs
