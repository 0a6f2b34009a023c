// GGUF v3 writer: metadata key/values and tensors given as raw ggml block bytes (gguf_blocks.h
// makes them), written in one pass through an atomic temp-file-and-rename, so a failed or
// cancelled export never leaves a half-written file under the target name. Tensor bytes may
// come from a producer called during write(), so a large model need not sit in memory twice.
// Layout written: header, key/values (in insertion order), tensor infos (in insertion order),
// padding to the alignment, then each tensor's data padded to the alignment; the offsets are
// consecutive, which is what llama.cpp's loader checks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/export/gguf_format.h"

namespace qs::gguf {

class GgufWriter {
public:
    using DataProducer = std::function<std::vector<std::uint8_t>()>;

    GgufWriter() = default;

    // Adds or replaces a key (a replaced key keeps its position). "general.alignment" must be
    // a uint32 power of two and sets the data alignment. Throws QsError on a bad key or value.
    void set(const std::string& key, Value value);
    const Value* find(const std::string& key) const;
    const std::vector<std::pair<std::string, Value>>& metadata() const { return m_kv; }

    // dims in ggml order (innermost, contiguous dimension first: a [out, in] weight is
    // {in, out}); dims[0] must be a whole number of blocks. `data` is the tensor's blocks,
    // exactly tensor_bytes(type, product of dims) bytes. Throws QsError on a duplicate or
    // too-long name, 0 or more than 4 dims, or a size mismatch.
    void add_tensor(const std::string& name, std::vector<std::uint64_t> dims, TensorType type,
                    std::vector<std::uint8_t> data);
    // As above, the bytes being produced during write() (checked against the size then).
    void add_tensor(const std::string& name, std::vector<std::uint64_t> dims, TensorType type,
                    DataProducer produce);

    std::size_t tensor_count() const { return m_tensors.size(); }
    std::uint32_t alignment() const { return m_alignment; }

    // Writes the file atomically; throws QsError naming path on any failure.
    void write(const std::string& path) const;

private:
    struct Tensor {
        std::string name;
        std::vector<std::uint64_t> dims;
        TensorType type;
        std::size_t bytes;
        std::vector<std::uint8_t> data;  // used when produce is empty
        DataProducer produce;
    };
    std::size_t check_tensor(const std::string& name, const std::vector<std::uint64_t>& dims,
                             TensorType type) const;

    std::vector<std::pair<std::string, Value>> m_kv;
    std::vector<Tensor> m_tensors;
    std::uint32_t m_alignment = kDefaultAlignment;
};

}  // namespace qs::gguf
