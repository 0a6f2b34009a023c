#include "core/model/causal_lm.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/io/tensor_torch.h"
#include "core/model/compute_dtype.h"
#include "core/model/layer_stream.h"
#include "core/quant/layer_quantizer.h"
#include "core/quant/recipe.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {
namespace {

// The activation format of a fake-quantized checkpoint and the layers it applies to: those the
// recipe quantized (its `layers` range minus `full_precision_layers`), read from the recipe
// stored beside it; every layer when the config has no recipe.
void read_activation_quantization(const std::string& config_path, int num_layers,
                                  QuantFormat& format, std::vector<bool>& layers)
{
    std::ifstream in(config_path);
    auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!config.is_object() || !config.contains("quantization_config")) return;
    const auto& q = config["quantization_config"];
    if (!q.is_object() || !q.contains("activations") || !q["activations"].is_string()) return;
    const std::string name = q["activations"];
    try {
        format = name == "none" ? QuantFormat{} : QuantFormat::parse(name);
        layers.assign(std::size_t(std::max(num_layers, 0)), true);
        if (q.contains("recipe") && q["recipe"].is_string()) {
            const Recipe recipe = Recipe::from_yaml(q["recipe"].get<std::string>(),
                                                    config_path + ": quantization_config.recipe");
            for (int i = 0; i < num_layers; ++i)
                layers[std::size_t(i)] = recipe.quantizes_layer(i, num_layers);
        }
    } catch (const QsError& e) {
        fail_file(config_path, std::string("quantization_config: ") + e.what());
    }
}

}  // namespace

std::unique_ptr<CausalLM> CausalLM::open(const std::string& dir, const torch::Device& device,
                                         bool with_tokenizer, torch::ScalarType compute_dtype)
{
    if (!std::filesystem::is_directory(dir)) fail_file(dir, "not a model directory");
    compute_dtype_name(compute_dtype);  // throws for anything but float32, bfloat16, float16
    std::unique_ptr<CausalLM> model(new CausalLM());
    model->m_dir = dir;
    model->m_device = device;
    model->m_compute_dtype = compute_dtype;
    model->m_config = ModelConfig::load(dir + "/config.json");
    model->m_store = TensorStore::open_dir(dir);
    model->m_names = checkpoint_names(model->m_config, *model->m_store);
    read_activation_quantization(dir + "/config.json", model->num_layers(),
                                 model->m_activation_format, model->m_activation_layers);
    if (with_tokenizer) model->m_tokenizer = load_tokenizer(dir);
    return model;
}

const Tokenizer& CausalLM::tokenizer() const
{
    if (!m_tokenizer) fail_file(m_dir, "model was opened without its tokenizer");
    return *m_tokenizer;
}

torch::Tensor CausalLM::embed(const torch::Tensor& ids, std::int64_t first_position) const
{
    const auto dtype = m_compute_dtype;
    auto hidden = gather_rows(*m_store, m_names.embed_tokens, ids, dtype, m_device);
    if (m_config.arch != Architecture::Opt) return hidden;
    if (!m_names.project_in.empty())
        hidden = dtype_linear(hidden, load_tensor(*m_store, m_names.project_in, dtype, m_device));
    // OPT's learned positions start at row 2 (the offset HF's OPTLearnedPositionalEmbedding adds).
    const auto first = first_position + 2;
    auto positions =
        torch::arange(first, first + ids.size(1), torch::kLong).unsqueeze(0).expand_as(ids);
    return hidden + gather_rows(*m_store, m_names.embed_positions, positions, dtype, m_device);
}

LayerWeights CausalLM::load_layer(int index, torch::ScalarType dtype) const
{
    return load_layer_in(index, dtype);
}

LayerWeights CausalLM::load_layer_as_stored(int index) const
{
    return load_layer_in(index, std::nullopt);
}

namespace {

// The dtype a tensor is stored in when torch computes in it without loss, float32 otherwise.
torch::ScalarType exact_float_dtype(DType stored)
{
    switch (stored) {
        case DType::F16:
            return torch::kFloat16;
        case DType::BF16:
            return torch::kBFloat16;
        default:
            return torch::kFloat32;
    }
}

}  // namespace

LayerWeights CausalLM::load_layer_in(int index, std::optional<torch::ScalarType> dtype) const
{
    if (index < 0 || index >= num_layers())
        fail_file(m_dir, "layer " + std::to_string(index) + " out of range");
    const std::string prefix = m_names.layer_prefix(index);
    LayerWeights weights;
    for (const auto& name : m_store->names()) {
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        // Static activation scales are quantization parameters: float32 in any compute dtype.
        const bool scale =
            name.size() > 12 && name.compare(name.size() - 12, 12, ".input_scale") == 0;
        const auto type =
            scale ? torch::kFloat32 : dtype.value_or(exact_float_dtype(m_store->info(name).dtype));
        weights.set(name.substr(prefix.size()), load_tensor(*m_store, name, type, m_device));
    }
    if (index < int(m_activation_layers.size()) && m_activation_layers[std::size_t(index)])
        install_activation_quantization(weights, m_activation_format);
    return weights;
}

HeadWeights CausalLM::load_head() const
{
    HeadWeights head;
    auto optional = [&](const std::string& name) {
        return (!name.empty() && m_store->contains(name))
                   ? load_tensor(*m_store, name, m_compute_dtype, m_device)
                   : torch::Tensor();
    };
    if (!m_names.final_norm.empty()) {
        head.norm_weight = optional(m_names.final_norm + ".weight");
        head.norm_bias = optional(m_names.final_norm + ".bias");
    }
    head.project_out = optional(m_names.project_out);
    head.lm_head = load_tensor(*m_store, m_names.lm_head, m_compute_dtype, m_device);
    return head;
}

torch::Tensor CausalLM::head(const torch::Tensor& hidden, const HeadWeights& weights) const
{
    auto x = hidden;
    if (weights.norm_weight.defined()) {
        x = m_config.arch == Architecture::Opt
                ? layer_norm_fp32(x, weights.norm_weight, weights.norm_bias, m_config.norm_eps)
                : rms_norm(x, weights.norm_weight, m_config.norm_eps);
    }
    if (weights.project_out.defined()) x = dtype_linear(x, weights.project_out);
    return dtype_linear(x, weights.lm_head).to(torch::kFloat32);
}

torch::Tensor CausalLM::forward(const torch::Tensor& ids, Feedback* feedback) const
{
    torch::NoGradGuard no_grad;
    auto hidden = embed(ids);
    auto context = make_layer_context(m_config, ids.size(1), m_device);
    LayerStream stream(*this);  // the next layer loads while this one runs
    for (int i = 0; i < num_layers(); ++i) {
        report(feedback, double(i) / num_layers(), "layer " + std::to_string(i));
        hidden = decoder_layer_forward(m_config, stream.next(), hidden, context);
    }
    return head(hidden, load_head());
}

}  // namespace qs
