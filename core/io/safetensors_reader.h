// safetensors reader (https://github.com/huggingface/safetensors, format: 8-byte little-endian
// header length N, N bytes of JSON header {name: {dtype, shape, data_offsets:[begin,end]}},
// optional "__metadata__", then the data buffer). The file is memory-mapped and validated once
// at open (header bounds, JSON, dtypes, offsets inside the buffer, byte size = dtype x shape,
// no overlaps); tensor bytes are only touched when a caller reads them. No libtorch here:
// core/io/tensor_torch.h turns a TensorView into a torch::Tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/dtype.h"
#include "core/util/mapped_file.h"

namespace qs {

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::size_t begin = 0;  // byte offset relative to the data buffer
    std::size_t end = 0;
    std::int64_t numel() const;
};

// Bytes of one tensor inside a mapped file (valid while its reader lives).
struct TensorView {
    const TensorInfo* info = nullptr;
    const std::uint8_t* data = nullptr;
    std::size_t size_bytes = 0;
};

class SafetensorsReader {
public:
    explicit SafetensorsReader(const std::string& path);  // throws QsError "<path>: <problem>"

    const std::string& path() const { return m_file->path(); }
    const std::map<std::string, TensorInfo>& tensors() const { return m_tensors; }
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    bool contains(const std::string& name) const { return m_tensors.count(name) > 0; }
    const TensorInfo& info(const std::string& name) const;  // throws naming the file and tensor
    TensorView view(const std::string& name) const;
    // Drop the pages of a tensor from the resident set after it was copied out.
    void release(const std::string& name) const;

private:
    std::unique_ptr<MappedFile> m_file;
    std::size_t m_data_start = 0;
    std::map<std::string, TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
};

}  // namespace qs
