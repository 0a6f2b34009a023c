// safetensors writer: tensors are added as raw little-endian bytes with dtype and shape, then
// written atomically (temp file in the same directory, fsync, rename) with the header padded
// to 8 bytes as the reference implementation does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/io/dtype.h"

namespace qs {

class SafetensorsWriter {
public:
    void add(const std::string& name, DType dtype, std::vector<std::int64_t> shape,
             std::vector<std::uint8_t> bytes);  // throws QsError if size != dtype x shape
    void add_f32(const std::string& name, std::vector<std::int64_t> shape, const float* values);
    // Without a copy: `data` (dtype x shape bytes) is read by write() and must stay valid and
    // unchanged until then. For whole decoder layers, where a copy would double the memory.
    void add_borrowed(const std::string& name, DType dtype, std::vector<std::int64_t> shape,
                      const void* data);
    void set_metadata(const std::string& key, const std::string& value);
    // Writes the file atomically; throws QsError naming the path on failure.
    void write(const std::string& path) const;

private:
    struct Entry {
        DType dtype;
        std::vector<std::int64_t> shape;
        std::vector<std::uint8_t> bytes;         // owned bytes, or
        const std::uint8_t* borrowed = nullptr;  // add_borrowed's caller's bytes
        std::size_t size = 0;                    // bytes either way
        const std::uint8_t* data() const { return borrowed ? borrowed : bytes.data(); }
    };
    void add_entry(const std::string& name, Entry entry);
    std::map<std::string, Entry> m_entries;
    std::map<std::string, std::string> m_metadata;
};

// Writes an index json + shards (model-0000i-of-0000n.safetensors) from a list of files the
// caller already wrote; used by tests and by large synthetic models.
void write_safetensors_index(const std::string& dir,
                             const std::map<std::string, std::string>& weight_map,
                             std::size_t total_size);

}  // namespace qs
