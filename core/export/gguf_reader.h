// GGUF reader: memory-maps the file, parses and validates the header, key/values and tensor
// infos up front (every problem is a QsError "<file>: <problem>": bad magic, unsupported
// version, truncation, unknown value or tensor type, misaligned or out-of-range offsets), and
// hands out tensor bytes as views into the map or dequantized to float (gguf_blocks.h).
// Accepts versions 2 and 3 (same little-endian layout).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/export/gguf_format.h"
#include "core/util/mapped_file.h"

namespace qs::gguf {

struct TensorInfo {
    std::string name;
    std::vector<std::uint64_t> dims;  // ggml order: innermost first
    TensorType type = TensorType::F32;
    std::uint64_t offset = 0;  // relative to the data section
    std::uint64_t n_elements = 0;
    std::size_t n_bytes = 0;
};

class GgufReader {
public:
    explicit GgufReader(const std::string& path);  // throws QsError naming the path

    const std::string& path() const { return m_file.path(); }
    std::uint32_t version() const { return m_version; }
    std::uint32_t alignment() const { return m_alignment; }
    std::uint64_t data_offset() const { return m_data_offset; }  // absolute, in the file

    const std::vector<std::pair<std::string, Value>>& metadata() const { return m_kv; }
    const Value* find(const std::string& key) const;
    const Value& get(const std::string& key) const;  // throws naming the file and the key

    const std::vector<TensorInfo>& tensors() const { return m_tensors; }
    const TensorInfo* find_tensor(const std::string& name) const;
    const TensorInfo& tensor(const std::string& name) const;  // throws naming file and name

    // The tensor's raw blocks, a view into the mapped file (valid while the reader lives).
    std::span<const std::uint8_t> tensor_data(const TensorInfo& info) const;
    std::vector<float> dequantize(const TensorInfo& info) const;

private:
    void parse();

    MappedFile m_file;
    std::uint32_t m_version = 0;
    std::uint32_t m_alignment = kDefaultAlignment;
    std::uint64_t m_data_offset = 0;
    std::vector<std::pair<std::string, Value>> m_kv;
    std::vector<TensorInfo> m_tensors;
};

}  // namespace qs::gguf
