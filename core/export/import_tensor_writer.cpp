#include "core/export/import_tensor_writer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include <torch/torch.h>

#include "core/io/safetensors_writer.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs {

ImportTensorWriter::ImportTensorWriter(std::string dir, DType dtype, std::size_t shard_bytes)
    : m_dir(std::move(dir)), m_dtype(dtype), m_shard_bytes(shard_bytes)
{
    if (dtype != DType::F32 && dtype != DType::F16)
        fail_file(m_dir, "imported weights are written as F32 or F16, not " + dtype_name(dtype));
}

ImportTensorWriter::~ImportTensorWriter() = default;

void ImportTensorWriter::add(const std::string& name, const torch::Tensor& values)
{
    const auto target = m_dtype == DType::F16 ? torch::kHalf : torch::kFloat32;
    auto t = values.to(torch::kCPU).to(target).contiguous();
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(t.nbytes()));
    std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
    add_raw(name, m_dtype, t.sizes().vec(), std::move(bytes));
}

void ImportTensorWriter::add(const std::string& name, const std::vector<std::int64_t>& shape,
                             const std::vector<float>& values)
{
    auto t = torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat32);
    add(name, t);
}

void ImportTensorWriter::add_raw(const std::string& name, DType dtype,
                                 std::vector<std::int64_t> shape, std::vector<std::uint8_t> bytes)
{
    if (m_tensor_shard.count(name)) fail_file(m_dir, "tensor '" + name + "' written twice");
    if (!m_current) m_current = std::make_unique<SafetensorsWriter>();
    const std::size_t size = bytes.size();
    m_current->add(name, dtype, std::move(shape), std::move(bytes));
    m_tensor_shard[name] = m_shard_files.size();
    m_current_bytes += size;
    m_total_bytes += size;
    if (m_current_bytes >= m_shard_bytes) flush();
}

void ImportTensorWriter::flush()
{
    if (!m_current) return;
    const std::string path =
        (fs::path(m_dir) / ("shard-" + std::to_string(m_shard_files.size()) + ".tmp")).string();
    m_current->write(path);
    m_shard_files.push_back(path);
    m_current.reset();
    m_current_bytes = 0;
}

std::size_t ImportTensorWriter::finish()
{
    flush();
    const std::size_t n = m_shard_files.size();
    if (n == 0) fail_file(m_dir, "no tensors to write");
    std::vector<std::string> names(n);
    if (n == 1) {
        names[0] = "model.safetensors";
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            char buf[64];
            std::snprintf(buf, sizeof(buf), "model-%05zu-of-%05zu.safetensors", i + 1, n);
            names[i] = buf;
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        std::error_code ec;
        fs::rename(m_shard_files[i], fs::path(m_dir) / names[i], ec);
        if (ec) fail_file(m_shard_files[i], "cannot rename: " + ec.message());
    }
    if (n > 1) {
        std::map<std::string, std::string> weight_map;
        for (const auto& [tensor, shard] : m_tensor_shard)
            weight_map[tensor] = names[shard];
        write_safetensors_index(m_dir, weight_map, m_total_bytes);
    }
    return m_tensor_shard.size();
}

}  // namespace qs
