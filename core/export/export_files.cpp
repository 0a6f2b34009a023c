#include "core/export/export_files.h"

#include <filesystem>
#include <fstream>

#include "core/io/tensor_store.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs {

namespace {

bool ends_with(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Pad pad_of(const std::string& name)
{
    for (const char* m : {".mlp.gate_proj.", ".mlp.up_proj.", ".fc1."})
        if (ends_with(name, std::string(m) + "weight") || ends_with(name, std::string(m) + "bias"))
            return Pad::Rows;
    for (const char* m : {".mlp.down_proj.weight", ".fc2.weight"})
        if (ends_with(name, m)) return Pad::Cols;
    return Pad::None;
}

torch::Tensor pad_tensor(const torch::Tensor& t, Pad pad, std::int64_t size)
{
    if (pad == Pad::None) return t;
    const int dim = pad == Pad::Rows ? 0 : 1;
    if (t.size(dim) >= size) return t;
    auto shape = t.sizes().vec();
    shape[dim] = size - t.size(dim);
    return torch::cat({t, torch::zeros(shape, t.options())}, dim);
}

void add_f16(SafetensorsWriter& writer, const std::string& name, const torch::Tensor& t)
{
    auto h = t.to(torch::kCPU).to(torch::kHalf).contiguous();
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(h.data_ptr<at::Half>());
    writer.add(name, DType::F16, h.sizes().vec(),
               std::vector<std::uint8_t>(bytes, bytes + h.numel() * 2));
}

void copy_side_files(const std::string& from, const std::string& to)
{
    for (const auto& entry : fs::directory_iterator(from)) {
        const auto name = entry.path().filename().string();
        if (!entry.is_regular_file() || name == "config.json" ||
            name.find(".safetensors") != std::string::npos)
            continue;
        fs::copy_file(entry.path(), fs::path(to) / name, fs::copy_options::overwrite_existing);
    }
}

nlohmann::json read_json(const std::string& path)
{
    std::ifstream in(path);
    if (!in) fail_file(path, "cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        fail_file(path, std::string("invalid JSON: ") + e.what());
    }
}

void write_json(const std::string& path, const nlohmann::json& json)
{
    std::ofstream out(path);
    out << json.dump(2) << "\n";
    if (!out) fail_file(path, "cannot write");
}

void ShardIndex::add_shard(const std::string& dir, const std::string& file,
                           const std::vector<std::string>& tensors)
{
    for (const auto& name : tensors)
        m_weight_map[name] = file;
    m_bytes += fs::file_size(fs::path(dir) / file);
}

void ShardIndex::write(const std::string& dir) const
{
    write_safetensors_index(dir, m_weight_map, m_bytes);
}

nlohmann::json compressed_tensors_config(const nlohmann::json& weights, const std::string& format,
                                         const std::vector<std::string>& ignore)
{
    nlohmann::json ignore_list = nlohmann::json::array({"lm_head"});
    for (const auto& m : ignore)
        ignore_list.push_back(m);
    return {{"quant_method", "compressed-tensors"},
            {"format", format},
            {"quantization_status", "compressed"},
            {"config_groups",
             {{"group_0",
               {{"targets", {"Linear"}},
                {"weights", weights},
                {"input_activations", nullptr},
                {"output_activations", nullptr},
                {"format", format}}}}},
            {"ignore", ignore_list},
            {"kv_cache_scheme", nullptr},
            {"global_compression_ratio", nullptr},
            {"sparsity_config", nlohmann::json::object()}};
}

void rewrite_shards(const std::string& fake_dir, const std::string& out_dir,
                    const ShardRewrite& rewrite)
{
    auto store = TensorStore::open_dir(fake_dir);
    ShardIndex index;
    for (const auto& file : store->files()) {
        SafetensorsReader reader(file);
        SafetensorsWriter writer;
        std::vector<std::string> names;
        for (const auto& [name, info] : reader.tensors())
            rewrite({name, info, *store, reader}, writer, names);
        const auto base = std::filesystem::path(file).filename().string();
        writer.write(out_dir + "/" + base);
        index.add_shard(out_dir, base, names);
    }
    index.write(out_dir);
}

}  // namespace qs
