// ModelInfo reads only config.json and the safetensors headers: no tensor bytes are touched,
// so `info` on a multi-gigabyte checkpoint is instant. Shapes are checked against the config
// here because a mismatch found later, inside a matmul, would name no file at all.
#include "core/model/model_info.h"

#include <filesystem>
#include <map>

#include "core/io/tensor_store.h"
#include "core/model/checkpoint_names.h"
#include "core/io/dtype.h"
#include "core/util/error.h"

namespace qs {

namespace {

// [out, in] of a layer linear as the config implies it.
std::vector<std::int64_t> expected_linear_shape(const ModelConfig& c, const std::string& name)
{
    const std::int64_t q_dim = c.num_heads * c.head_dim;
    const std::int64_t kv_dim = c.num_kv_heads * c.head_dim;
    if (name == "self_attn.q_proj") return {q_dim, c.hidden_size};
    if (name == "self_attn.k_proj" || name == "self_attn.v_proj") return {kv_dim, c.hidden_size};
    if (name == "self_attn.o_proj" || name == "self_attn.out_proj") return {c.hidden_size, q_dim};
    if (name == "mlp.down_proj" || name == "fc2") return {c.hidden_size, c.intermediate_size};
    return {c.intermediate_size, c.hidden_size};  // gate_proj, up_proj, fc1
}

bool config_expects_bias(const ModelConfig& c, const std::string& name)
{
    if (name == "self_attn.o_proj" || name == "self_attn.out_proj") return c.o_proj_bias;
    if (name.rfind("self_attn.", 0) == 0) return c.attention_bias;
    return c.mlp_bias;
}

const TensorInfo& require_tensor(const TensorStore& store, const std::string& dir,
                                 const std::string& name, const std::vector<std::int64_t>& shape)
{
    if (!store.contains(name)) fail_file(dir, "missing tensor '" + name + "'");
    const TensorInfo& info = store.info(name);
    if (info.shape != shape)
        fail_file(dir, "tensor '" + name + "' has shape " + shape_text(info.shape) +
                           " but config.json implies " + shape_text(shape));
    return info;
}

// i for "<layers>i.<rest>", else -1.
int layer_index(const std::string& name, const std::string& layers)
{
    if (name.rfind(layers, 0) != 0) return -1;
    std::size_t pos = layers.size(), dot = name.find('.', pos);
    if (dot == std::string::npos || dot == pos || dot - pos > 6) return -1;
    int i = 0;
    for (std::size_t k = pos; k < dot; ++k) {
        if (name[k] < '0' || name[k] > '9') return -1;
        i = i * 10 + (name[k] - '0');
    }
    return i;
}

}  // namespace

ModelInfo ModelInfo::load(const std::string& dir)
{
    ModelInfo m;
    m.directory = dir;
    m.config = ModelConfig::load((std::filesystem::path(dir) / "config.json").string());
    const ModelConfig& c = m.config;
    auto store = TensorStore::open_dir(dir);
    const CheckpointNames names = checkpoint_names(c, *store);

    const std::int64_t embed_dim =
        c.arch == Architecture::Opt ? c.word_embed_proj_dim : c.hidden_size;
    require_tensor(*store, dir, names.embed_tokens, {c.vocab_size, embed_dim});
    if (names.lm_head != names.embed_tokens)
        require_tensor(*store, dir, names.lm_head, {c.vocab_size, embed_dim});
    if (!names.embed_positions.empty())  // OPT keeps 2 extra rows (position offset)
        require_tensor(*store, dir, names.embed_positions,
                       {c.max_position_embeddings + 2, c.hidden_size});
    if (!names.project_in.empty()) {
        require_tensor(*store, dir, names.project_in, {c.hidden_size, c.word_embed_proj_dim});
        require_tensor(*store, dir, names.project_out, {c.word_embed_proj_dim, c.hidden_size});
    }

    for (int i = 0; i < c.num_layers; ++i) {
        LayerInfo layer;
        layer.index = i;
        const std::string prefix = names.layer_prefix(i);
        for (const std::string& short_name : names.linears) {
            LinearInfo linear;
            linear.name = short_name;
            linear.weight_name = prefix + short_name + ".weight";
            const auto shape = expected_linear_shape(c, short_name);
            const TensorInfo& info = require_tensor(*store, dir, linear.weight_name, shape);
            linear.out_features = shape[0];
            linear.in_features = shape[1];
            linear.dtype = dtype_name(info.dtype);
            const std::string bias_name = prefix + short_name + ".bias";
            linear.has_bias = store->contains(bias_name);
            if (config_expects_bias(c, short_name) && !linear.has_bias)
                fail_file(dir, "missing tensor '" + bias_name + "'");
            if (linear.has_bias) require_tensor(*store, dir, bias_name, {shape[0]});
            layer.linears.push_back(std::move(linear));
        }
        m.layers.push_back(std::move(layer));
    }

    // One pass over the store: totals, per-layer sums (by prefix) and elements per dtype.
    std::map<std::string, std::int64_t> elements_by_dtype;
    for (const std::string& name : store->names()) {
        const TensorInfo& info = store->info(name);
        const std::int64_t n = info.numel();
        m.stored_parameters += n;
        const bool tied_copy = c.tie_word_embeddings && name == "lm_head.weight";
        if (!tied_copy) m.total_parameters += n;
        elements_by_dtype[dtype_name(info.dtype)] += n;
        if (name == names.embed_tokens || name == names.embed_positions)
            m.embedding_parameters += n;
        if (int i = layer_index(name, names.layers); i >= 0 && i < c.num_layers)
            m.layers[static_cast<std::size_t>(i)].parameters += n;
    }
    // "Dominant" is by element count: a checkpoint with F32 norms and BF16 matrices is BF16.
    std::int64_t best = -1;
    for (const auto& [dtype, n] : elements_by_dtype) {
        if (n > best) {
            best = n;
            m.dtype = dtype;
        }
    }
    for (const std::string& file : store->files())
        m.file_bytes += static_cast<std::int64_t>(std::filesystem::file_size(file));
    return m;
}

}  // namespace qs
