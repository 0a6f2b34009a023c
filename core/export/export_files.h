// File plumbing shared by the checkpoint exporters (checkpoint_export, export_int_layouts,
// export_mx): typed tensors into a SafetensorsWriter, side files, config.json, the index.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/io/dtype.h"
#include "core/io/safetensors_reader.h"
#include "core/io/safetensors_writer.h"

namespace qs {

template <typename T>
void add_array(SafetensorsWriter& writer, const std::string& name, DType dtype,
               std::vector<std::int64_t> shape, const std::vector<T>& values)
{
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(values.data());
    writer.add(name, dtype, std::move(shape),
               std::vector<std::uint8_t>(bytes, bytes + values.size() * sizeof(T)));
}

// A float tensor as fp16 (round to nearest even, as torch's .half()).
void add_f16(SafetensorsWriter& writer, const std::string& name, const torch::Tensor& t);

// Which dimension of a decoder-layer tensor is the MLP intermediate one (gate/up/fc1 rows and
// biases, down/fc2 columns): the exporters zero-pad it to the layout's alignment.
enum class Pad { None, Rows, Cols };
Pad pad_of(const std::string& name);
// t with zero rows/columns appended up to `size` along the padded dimension.
torch::Tensor pad_tensor(const torch::Tensor& t, Pad pad, std::int64_t size);

// compressed-tensors' quantization_config for one config group of Linear weights (`weights`:
// its QuantizationArgs) in `format` ("pack-quantized", "mxfp4-pack-quantized"), lm_head and the
// `ignore` modules left in full precision, as llm-compressor writes it.
nlohmann::json compressed_tensors_config(const nlohmann::json& weights, const std::string& format,
                                         const std::vector<std::string>& ignore);

// Copies every regular file of `from` except config.json, safetensors files and their index
// (tokenizer, generation config, ...) into `to`.
void copy_side_files(const std::string& from, const std::string& to);

nlohmann::json read_json(const std::string& path);  // throws QsError naming the path
void write_json(const std::string& path, const nlohmann::json& json);

// The files of an output folder written shard by shard: records each tensor's shard and
// writes model.safetensors.index.json at the end.
class ShardIndex {
public:
    void add_shard(const std::string& dir, const std::string& file,
                   const std::vector<std::string>& tensors);
    void write(const std::string& dir) const;

private:
    std::map<std::string, std::string> m_weight_map;
    std::size_t m_bytes = 0;
};

class TensorStore;

// One tensor of the fake-quantized checkpoint being rewritten, with what a rewriter may read.
struct ShardTensor {
    const std::string& name;
    const TensorInfo& info;
    const TensorStore& store;         // the whole checkpoint (load_tensor)
    const SafetensorsReader& reader;  // this tensor's shard (raw bytes)
};
// Adds what the tensor becomes to `writer` and the names written to `names`.
using ShardRewrite = std::function<void(const ShardTensor& tensor, SafetensorsWriter& writer,
                                        std::vector<std::string>& names)>;
// Rewrites every shard of `fake_dir` into `out_dir` under the same file name, one shard in
// memory at a time, then writes the index: the loop every packed exporter shares.
void rewrite_shards(const std::string& fake_dir, const std::string& out_dir,
                    const ShardRewrite& rewrite);

}  // namespace qs
