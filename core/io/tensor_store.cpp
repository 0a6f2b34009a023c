// A sharded checkpoint is only as good as its index: every shard the index names must exist
// and hold the tensors mapped to it, and those errors name the index file (the thing to fix),
// while errors inside a shard name the shard.
#include "core/io/tensor_store.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace qs {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_index(const std::string& index_path)
{
    std::ifstream in(index_path, std::ios::binary);
    if (!in) fail_file(index_path, "cannot read file");
    std::stringstream text;
    text << in.rdbuf();
    auto index = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (index.is_discarded()) fail_file(index_path, "not valid JSON");
    if (!index.is_object() || !index.contains("weight_map"))
        fail_file(index_path, "missing 'weight_map'");
    if (!index["weight_map"].is_object()) fail_file(index_path, "'weight_map' is not an object");
    return index;
}

}  // namespace

std::unique_ptr<TensorStore> TensorStore::open_dir(const std::string& dir)
{
    if (!fs::is_directory(dir)) fail_file(dir, "not a directory");
    const std::string index_path = (fs::path(dir) / "model.safetensors.index.json").string();
    const std::string single_path = (fs::path(dir) / "model.safetensors").string();

    auto store = std::make_unique<TensorStore>();
    store->m_location = dir;
    if (!fs::exists(index_path)) {
        if (!fs::exists(single_path))
            fail_file(dir, "no model.safetensors or model.safetensors.index.json");
        store->m_readers.push_back(std::make_unique<SafetensorsReader>(single_path));
        for (const auto& [name, info] : store->m_readers[0]->tensors())
            store->m_index[name] = 0;
        return store;
    }

    const nlohmann::json index = read_index(index_path);
    std::map<std::string, std::size_t> shard_reader;  // shard file name -> reader
    for (const auto& [tensor, shard_value] : index["weight_map"].items()) {
        if (!shard_value.is_string())
            fail_file(index_path, "weight_map entry of '" + tensor + "' is not a file name");
        const std::string shard = shard_value.get<std::string>();
        auto it = shard_reader.find(shard);
        if (it == shard_reader.end()) {
            const std::string shard_path = (fs::path(dir) / shard).string();
            if (!fs::exists(shard_path))
                fail_file(index_path, "shard '" + shard + "' (listed for tensor '" + tensor +
                                          "') does not exist");
            store->m_readers.push_back(std::make_unique<SafetensorsReader>(shard_path));
            it = shard_reader.emplace(shard, store->m_readers.size() - 1).first;
        }
        if (!store->m_readers[it->second]->contains(tensor))
            fail_file(index_path,
                      "tensor '" + tensor + "' is mapped to '" + shard + "', which lacks it");
        store->m_index[tensor] = it->second;
    }
    return store;
}

std::unique_ptr<TensorStore> TensorStore::open_file(const std::string& path)
{
    auto store = std::make_unique<TensorStore>();
    store->m_location = path;
    store->m_readers.push_back(std::make_unique<SafetensorsReader>(path));
    for (const auto& [name, info] : store->m_readers[0]->tensors())
        store->m_index[name] = 0;
    return store;
}

bool TensorStore::contains(const std::string& name) const
{
    return m_index.count(name) > 0;
}

const SafetensorsReader& TensorStore::reader_for(const std::string& name) const
{
    auto it = m_index.find(name);
    if (it == m_index.end()) fail_file(m_location, "no tensor '" + name + "'");
    return *m_readers[it->second];
}

const TensorInfo& TensorStore::info(const std::string& name) const
{
    return reader_for(name).info(name);
}

TensorView TensorStore::view(const std::string& name) const
{
    return reader_for(name).view(name);
}

void TensorStore::release(const std::string& name) const
{
    reader_for(name).release(name);
}

std::vector<std::string> TensorStore::names() const
{
    std::vector<std::string> out;
    out.reserve(m_index.size());
    for (const auto& [name, reader] : m_index)
        out.push_back(name);
    return out;
}

std::vector<std::string> TensorStore::files() const
{
    std::vector<std::string> out;
    for (const auto& reader : m_readers)
        out.push_back(reader->path());
    return out;
}

}  // namespace qs
