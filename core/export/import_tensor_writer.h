// The float checkpoint an import writes: tensors converted to one float dtype (F32 keeps every
// dequantized value exact; F16 halves the size) and written as model.safetensors, or as
// model-0000i-of-0000n.safetensors shards plus model.safetensors.index.json once the tensors
// exceed shard_bytes, so a 7B import never holds the whole model in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/io/dtype.h"

namespace qs {

class SafetensorsWriter;

class ImportTensorWriter {
public:
    // dtype F32 or F16 (QsError otherwise).
    ImportTensorWriter(std::string dir, DType dtype,
                       std::size_t shard_bytes = std::size_t(2) << 30);
    ~ImportTensorWriter();

    DType dtype() const { return m_dtype; }
    // A float tensor of any dtype, converted to dtype().
    void add(const std::string& name, const torch::Tensor& values);
    void add(const std::string& name, const std::vector<std::int64_t>& shape,
             const std::vector<float>& values);
    // Non-float tensors are kept as stored.
    void add_raw(const std::string& name, DType dtype, std::vector<std::int64_t> shape,
                 std::vector<std::uint8_t> bytes);
    // Writes the last shard and names the files; returns the tensor count.
    std::size_t finish();

private:
    void flush();

    std::string m_dir;
    DType m_dtype;
    std::size_t m_shard_bytes;
    std::unique_ptr<SafetensorsWriter> m_current;
    std::size_t m_current_bytes = 0;
    std::vector<std::string> m_shard_files;             // temporary names, in order
    std::map<std::string, std::size_t> m_tensor_shard;  // tensor -> shard index
    std::size_t m_total_bytes = 0;
};

}  // namespace qs
