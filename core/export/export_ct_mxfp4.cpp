#include "core/export/export_ct_mxfp4.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/export/export_files.h"
#include "core/io/safetensors_reader.h"
#include "core/io/tensor_store.h"
#include "core/io/tensor_torch.h"
#include "core/quant/mx_quantizer.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs {

Mxfp4Packed ct_mxfp4_pack_linear(const torch::Tensor& weight, const std::string& name)
{
    auto w = weight.to(torch::kCPU, torch::kFloat32).contiguous();
    const auto out = w.size(0), in = w.size(1);
    auto enc = mx_encode(w, MxElement::Fp4E2M1, int(kMxfp4BlockSize));
    auto elements_t = enc.elements.to(torch::kFloat32).contiguous();
    auto exps_t = enc.shared_exponent.to(torch::kInt32).contiguous();
    std::vector<float> elements(elements_t.data_ptr<float>(),
                                elements_t.data_ptr<float>() + elements_t.numel());
    const float* wp = w.data_ptr<float>();
    // mx_encode drops the sign of a zero that the dequantized weight keeps: take it from W_q.
    for (std::size_t i = 0; i < elements.size(); ++i)
        if (elements[i] == 0) elements[i] = std::copysign(0.0f, wp[i]);
    std::vector<std::int32_t> exps(exps_t.data_ptr<std::int32_t>(),
                                   exps_t.data_ptr<std::int32_t>() + exps_t.numel());
    Mxfp4Packed packed;
    try {
        packed = mxfp4_pack(elements, exps, out, in);
    } catch (const QsError& e) {
        throw QsError(name + ": " + e.what());
    }
    const auto back = mxfp4_dequantize(packed);
    for (std::int64_t i = 0; i < w.numel(); ++i)
        if (std::memcmp(&back[std::size_t(i)], &wp[i], 4) != 0)
            throw QsError(name + ": the mxfp4 packing does not reproduce weight " +
                          std::to_string(i) + " bit for bit");
    return packed;
}

void write_ct_mxfp4_layout(const std::string& fake_dir, const std::string& out_dir,
                           const std::vector<std::string>& linear_weights,
                           std::int64_t intermediate_size, std::int64_t padded_intermediate)
{
    const std::set<std::string> linears(linear_weights.begin(), linear_weights.end());
    const bool padded = padded_intermediate != intermediate_size;
    rewrite_shards(
        fake_dir, out_dir,
        [&](const ShardTensor& tensor, SafetensorsWriter& writer, std::vector<std::string>& names) {
            const std::string& name = tensor.name;
            const Pad pad = padded ? pad_of(name) : Pad::None;
            auto t = pad_tensor(load_tensor(tensor.store, name), pad, padded_intermediate);
            if (!linears.count(name)) {
                add_f16(writer, name, t);
                names.push_back(name);
                return;
            }
            const auto module = name.substr(0, name.size() - std::string(".weight").size());
            auto p = ct_mxfp4_pack_linear(t, name);
            add_array(writer, module + ".weight_packed", DType::U8, p.weight_packed_shape(),
                      p.weight_packed);
            add_array(writer, module + ".weight_scale", DType::U8, p.weight_scale_shape(),
                      p.weight_scale);
            names.insert(names.end(), {module + ".weight_packed", module + ".weight_scale"});
        });
}

nlohmann::json ct_mxfp4_quantization_config(const std::vector<std::string>& ignore)
{
    nlohmann::json weights = {{"num_bits", 4},
                              {"type", "float"},
                              {"symmetric", true},
                              {"strategy", "group"},
                              {"group_size", kMxfp4BlockSize},
                              {"scale_dtype", "torch.uint8"},
                              {"zp_dtype", nullptr},
                              {"actorder", nullptr},
                              {"block_structure", nullptr},
                              {"dynamic", false},
                              {"observer", "minmax"},
                              {"observer_kwargs", nlohmann::json::object()}};
    return compressed_tensors_config(weights, "mxfp4-pack-quantized", ignore);
}

}  // namespace qs
