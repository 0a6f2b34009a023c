// All tensors of a checkpoint directory: one model.safetensors, or shards listed by
// model.safetensors.index.json ({"weight_map": {tensor: shard file}}). Shards are opened
// (mapped and header-validated) on open; tensor bytes are read lazily.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/io/safetensors_reader.h"

namespace qs {

class TensorStore {
public:
    // dir holds model.safetensors or model.safetensors.index.json; throws QsError.
    static std::unique_ptr<TensorStore> open_dir(const std::string& dir);
    // A single file (tests, benchmarks).
    static std::unique_ptr<TensorStore> open_file(const std::string& path);

    bool contains(const std::string& name) const;
    const TensorInfo& info(const std::string& name) const;  // throws naming dir and tensor
    TensorView view(const std::string& name) const;
    void release(const std::string& name) const;
    std::vector<std::string> names() const;  // sorted
    const std::string& location() const { return m_location; }
    // Files backing the store (one, or every shard).
    std::vector<std::string> files() const;

private:
    const SafetensorsReader& reader_for(const std::string& name) const;

    std::string m_location;
    std::vector<std::unique_ptr<SafetensorsReader>> m_readers;
    std::map<std::string, std::size_t> m_index;  // tensor -> reader
};

}  // namespace qs
