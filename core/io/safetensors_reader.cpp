// Validation follows the safetensors reference (safetensors/src/tensor.rs): everything a
// later read relies on is checked once here, so view() can hand out raw pointers without
// further checks. Errors are one line, "<path>: <problem>", naming the tensor when there is one.
#include "core/io/safetensors_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/io/dtype.h"
#include "core/util/error.h"

namespace qs {

namespace {

using nlohmann::json;

// A JSON value as a non-negative integer; nullopt for non-integers and negatives.
std::optional<std::uint64_t> as_unsigned(const json& v)
{
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(v.get<std::int64_t>());
    return std::nullopt;
}

// Parses one header entry into info; returns "" or the problem (without the path prefix).
std::string parse_entry(const std::string& name, const json& entry, std::size_t data_size,
                        TensorInfo& info)
{
    const std::string who = "tensor '" + name + "': ";
    if (!entry.is_object()) return who + "header entry is not an object";
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(key)) return who + "missing '" + key + "'";

    const json& dtype = entry["dtype"];
    if (!dtype.is_string()) return who + "'dtype' is not a string";
    auto parsed = dtype_from_name(dtype.get<std::string>());
    if (!parsed) return who + "unknown dtype '" + dtype.get<std::string>() + "'";
    info.dtype = *parsed;

    const json& shape = entry["shape"];
    if (!shape.is_array()) return who + "'shape' is not an array";
    std::uint64_t numel = 1;
    for (const json& d : shape) {
        if (!d.is_number_integer()) return who + "'shape' holds a non-integer";
        if (!d.is_number_unsigned() && d.get<std::int64_t>() < 0)
            return who + "negative dimension " + std::to_string(d.get<std::int64_t>()) +
                   " in shape";
        std::uint64_t dim = *as_unsigned(d);
        if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
            __builtin_mul_overflow(numel, dim, &numel))
            return who + "shape is too large";
        info.shape.push_back(static_cast<std::int64_t>(dim));
    }

    const json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
        return who + "'data_offsets' is not a pair [begin, end]";
    auto begin = as_unsigned(offsets[0]);
    auto end = as_unsigned(offsets[1]);
    if (!begin || !end) return who + "'data_offsets' must be non-negative integers";
    if (*begin > *end)
        return who + "data_offsets begin " + std::to_string(*begin) + " > end " +
               std::to_string(*end);
    if (*end > data_size)
        return who + "data_offsets [" + std::to_string(*begin) + ", " + std::to_string(*end) +
               "] outside the data buffer (" + std::to_string(data_size) + " bytes)";
    info.begin = static_cast<std::size_t>(*begin);
    info.end = static_cast<std::size_t>(*end);

    std::uint64_t expected = 0;
    if (__builtin_mul_overflow(numel, dtype_size(info.dtype), &expected))
        return who + "shape is too large";
    if (info.end - info.begin != expected)
        return who + "byte size " + std::to_string(info.end - info.begin) +
               " does not match dtype " + dtype_name(info.dtype) + " x shape " +
               shape_text(info.shape) + " = " + std::to_string(expected) + " bytes";
    return "";
}

}  // namespace

std::int64_t TensorInfo::numel() const
{
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d;
    return n;
}

SafetensorsReader::SafetensorsReader(const std::string& path)
    : m_file(std::make_unique<MappedFile>(path))
{
    const std::size_t size = m_file->size();
    if (size < 8)
        fail_file(path,
                  "file too short for a safetensors header (" + std::to_string(size) + " bytes)");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i)
        header_len = (header_len << 8) | m_file->data()[i];
    if (header_len > size - 8)
        fail_file(path, "header length " + std::to_string(header_len) +
                            " runs past the end of the file (" + std::to_string(size) + " bytes)");
    m_data_start = 8 + static_cast<std::size_t>(header_len);
    const std::size_t data_size = size - m_data_start;

    const auto* text = reinterpret_cast<const char*>(m_file->data() + 8);
    json header = json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded()) fail_file(path, "header is not valid JSON");
    if (!header.is_object()) fail_file(path, "header is not a JSON object");

    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) fail_file(path, "'__metadata__' is not a map of strings");
            for (const auto& [key, value] : entry.items()) {
                if (!value.is_string())
                    fail_file(path, "'__metadata__' value of '" + key + "' is not a string");
                m_metadata[key] = value.get<std::string>();
            }
            continue;
        }
        TensorInfo info;
        info.name = name;
        std::string problem = parse_entry(name, entry, data_size, info);
        if (!problem.empty()) fail_file(path, problem);
        m_tensors.emplace(name, std::move(info));
    }

    // Overlap check: sort the byte ranges; empty tensors occupy nothing and cannot overlap.
    std::vector<const TensorInfo*> ranges;
    for (const auto& [name, info] : m_tensors)
        if (info.end > info.begin) ranges.push_back(&info);
    std::sort(ranges.begin(), ranges.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    for (std::size_t i = 1; i < ranges.size(); ++i)
        if (ranges[i]->begin < ranges[i - 1]->end)
            fail_file(path, "tensors '" + ranges[i - 1]->name + "' and '" + ranges[i]->name +
                                "' overlap in the data buffer");
}

const TensorInfo& SafetensorsReader::info(const std::string& name) const
{
    auto it = m_tensors.find(name);
    if (it == m_tensors.end()) fail_file(path(), "no tensor '" + name + "'");
    return it->second;
}

TensorView SafetensorsReader::view(const std::string& name) const
{
    const TensorInfo& i = info(name);
    return TensorView{&i, m_file->data() + m_data_start + i.begin, i.end - i.begin};
}

void SafetensorsReader::release(const std::string& name) const
{
    const TensorInfo& i = info(name);
    m_file->release_range(m_data_start + i.begin, i.end - i.begin);
}

}  // namespace qs
