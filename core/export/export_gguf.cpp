#include "core/export/export_gguf.h"

#include <filesystem>
#include <set>

#include <torch/torch.h>

#include "core/export/checkpoint_export.h"
#include "core/export/export_int_layouts.h"
#include "core/export/gguf_llama.h"
#include "core/export/gguf_reader.h"
#include "core/io/safetensors_reader.h"
#include "core/io/tensor_torch.h"
#include "core/model/causal_lm.h"
#include "core/quant/quantize_model.h"
#include "core/quant/recipe.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/feedback_span.h"
#include "core/util/partial_directory.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

std::string fitting_recipes(gguf::TensorType type)
{
    switch (type) {
        case gguf::TensorType::Q8_0:
            return "recipes that fit GGUF q8_0: symmetric INT weights of up to 8 bits with one "
                   "fp16 scale per "
                   "32 weights: e.g. 'weights: int8-g32-sym' (any int2..int8 -sym, per channel, "
                   "per tensor or groups of a multiple of 32, no GPTQ act_order without "
                   "static_groups)";
        case gguf::TensorType::Q4_0:
            return "recipes that fit GGUF q4_0: symmetric INT weights of up to 4 bits with one "
                   "fp16 scale per "
                   "32 weights: e.g. 'weights: int4-g32-sym' (any int2..int4 -sym, per channel, "
                   "per tensor or groups of a multiple of 32, no GPTQ act_order without "
                   "static_groups)";
        case gguf::TensorType::MXFP4:
            return "the recipe that fits GGUF mxfp4: 'weights: mxfp4-32' (E2M1 elements, E8M0 "
                   "scale per 32)";
        default:
            return "recipes that fit: any for GGUF f32; for f16, recipes whose values are fp16 "
                   "values";
    }
}

// Every linear in `weights` (the recipe's quantized ones) must read back from the GGUF file
// bit for bit.
int check_exact(const CausalLM& quantized, const Recipe& recipe,
                const std::vector<std::string>& weights, const std::string& gguf_path,
                gguf::TensorType type)
{
    const gguf::GgufReader reader(gguf_path);
    const auto& config = quantized.config();
    for (const auto& hf : weights) {
        torch::Tensor expected = load_tensor(quantized.store(), hf);
        if (hf.ends_with("self_attn.q_proj.weight"))
            expected = gguf::permute_qk_for_gguf(expected, config.num_heads);
        else if (hf.ends_with("self_attn.k_proj.weight"))
            expected = gguf::permute_qk_for_gguf(expected, config.num_kv_heads);
        expected = expected.contiguous();
        const auto& info = reader.tensor(gguf::llama_gguf_tensor_name(hf));
        const std::vector<float> actual = reader.dequantize(info);
        // Equal values; -0 and +0 count as equal (llama.cpp's MXFP4 encoder writes every
        // zero as code 0, +0, and a zero's sign changes no product).
        const float* want = expected.data_ptr<float>();
        bool same = std::size_t(expected.numel()) == actual.size();
        for (std::size_t i = 0; same && i < actual.size(); ++i)
            same = want[i] == actual[i];
        if (!same)
            throw QsError(std::string("GGUF ") + gguf::tensor_type_name(type) +
                          " cannot hold the values of recipe '" + recipe.name + "' exactly (" + hf +
                          " differs; " +
                          (info.type != type ? "its rows were written as a fallback type; " : "") +
                          fitting_recipes(type) + ")");
    }
    return int(weights.size());
}

bool on_int_grid(gguf::TensorType type)
{
    return type == gguf::TensorType::Q8_0 || type == gguf::TensorType::Q4_0;
}

// Per 32-weight block scales [out, in / 32] of a linear from the parameters file (scales
// [out, groups], g_idx [in]); undefined when a block spans two groups.
torch::Tensor block_scales_from_params(const SafetensorsReader& params, const std::string& hf)
{
    if (!params.contains(hf + ".scales")) return {};
    const torch::Tensor scales = read_quant_param(params, hf + ".scales").to(torch::kFloat32);
    const torch::Tensor g_idx = read_quant_param(params, hf + ".g_idx").to(torch::kLong);
    const std::int64_t in = g_idx.numel();
    if (in % 32 != 0) return {};
    const torch::Tensor first = g_idx.reshape({in / 32, 32});
    if (!first.eq(first.select(1, 0).unsqueeze(1)).all().item<bool>()) return {};
    return scales.index_select(1, first.select(1, 0)).contiguous();
}

}  // namespace

std::string gguf_recipe_refusal(const Recipe& recipe, gguf::TensorType type)
{
    const std::string why = "recipe '" + recipe.name + "' cannot be written as GGUF " +
                            gguf::tensor_type_name(type) + ": ";
    if (recipe.activations.kind != FormatKind::None)
        return why +
               "it quantizes activations; a GGUF file holds weights only (llama.cpp "
               "chooses its own activation types)";
    const QuantFormat& w = recipe.weights;
    if (on_int_grid(type)) {
        const int max_bits = type == gguf::TensorType::Q8_0 ? 8 : 4;
        if (w.kind != FormatKind::Int)
            return why + "its weights are not INT; " + fitting_recipes(type);
        if (!w.symmetric)
            return why + "asymmetric weights need a zero point per group; " + fitting_recipes(type);
        if (w.bits > max_bits)
            return why + std::to_string(w.bits) + "-bit codes do not fit; " + fitting_recipes(type);
        if (w.granularity == Granularity::Group && w.group_size % 32 != 0)
            return why + "groups of " + std::to_string(w.group_size) +
                   " split its 32-weight blocks; " + fitting_recipes(type);
        if (w.granularity == Granularity::Group && recipe.uses(Method::Gptq) &&
            recipe.gptq.act_order && !recipe.gptq.static_groups)
            return why + "GPTQ act_order scatters the groups over the columns; " +
                   fitting_recipes(type);
    }
    if (type == gguf::TensorType::MXFP4 &&
        !(w.kind == FormatKind::Mx && w.element == MxElement::Fp4E2M1 && w.block_size == 32))
        return why + fitting_recipes(type);
    return "";
}

gguf::TensorType parse_gguf_export_type(const std::string& name)
{
    if (name == "f32") return gguf::TensorType::F32;
    if (name == "f16") return gguf::TensorType::F16;
    if (name == "q8_0") return gguf::TensorType::Q8_0;
    if (name == "q4_0") return gguf::TensorType::Q4_0;
    if (name == "mxfp4") return gguf::TensorType::MXFP4;
    throw QsError("unknown GGUF type '" + name + "' (use f32, f16, q8_0, q4_0 or mxfp4)");
}

GgufExportResult export_gguf(const CausalLM& model, const Recipe* recipe, gguf::TensorType type,
                             const std::string& out_dir, bool force, Feedback* feedback)
{
    if (fs::exists(out_dir) && !force)
        fail_file(out_dir, "already exists (use --force to replace it)");
    if (recipe) {
        const std::string refusal = gguf_recipe_refusal(*recipe, type);
        if (!refusal.empty()) throw QsError(refusal);
    }
    PartialDirectory partial(out_dir);
    GgufExportResult result;
    std::unique_ptr<CausalLM> quantized;
    std::string stage;
    if (recipe) {
        // The recipe's dequantized weights, in a fake checkpoint beside the target.
        stage = partial.path() + "/quantized";
        FeedbackSpan span(feedback, 0.0, 0.7, "quantize: ");
        QuantizeOptions quantize;
        // Q8_0 / Q4_0 store fp16 block scales: quantize with those, and keep the parameters.
        quantize.fp16_scales = quantize.write_quant_params = on_int_grid(type);
        quantize_model(model, *recipe, stage, quantize, span.get());
        quantized = CausalLM::open(stage, model.device());
    }
    const CausalLM& source = quantized ? *quantized : model;
    const std::string name = fs::path(model.directory()).lexically_normal().filename().string();
    result.gguf_path = partial.path() + "/" + (name.empty() || name == "." ? "model" : name) + "-" +
                       gguf::tensor_type_name(type) + ".gguf";
    gguf::GgufLlamaOptions options;
    options.weight_type = type;
    std::unique_ptr<SafetensorsReader> params;
    if (recipe && on_int_grid(type)) {
        // QuantScope's own codes and scales; rows that are not whole blocks stay exact as F32.
        params = std::make_unique<SafetensorsReader>(stage + "/" + kQuantParamsFile);
        options.block_scales = [&params](const std::string& hf) {
            return block_scales_from_params(*params, hf);
        };
        options.fallback_type = gguf::TensorType::F32;
    }
    std::vector<std::string> quantized_weights;
    if (recipe) {
        for (const auto& module : recipe_linears(model, *recipe, true))
            quantized_weights.push_back(module + ".weight");
        // What the recipe leaves in full precision (embeddings, lm_head, full-precision layers)
        // stays F16, as the analysis sizes it, instead of taking llama.cpp's rule for `type`.
        options.keep_f16 =
            [quantized = std::set<std::string>(quantized_weights.begin(), quantized_weights.end())](
                const std::string& hf) { return !quantized.contains(hf); };
    }
    gguf::GgufLlamaReport report;
    {
        FeedbackSpan span(feedback, recipe ? 0.7 : 0.0, 0.95, "gguf: ");
        gguf::write_llama_gguf(source, result.gguf_path, options, span.get(), &report);
    }
    result.fallback_tensors = report.fallback_tensors;
    result.fallback_type = options.fallback_type;
    if (recipe)
        result.exact_linears =
            check_exact(*quantized, *recipe, quantized_weights, result.gguf_path, type);
    params.reset();
    quantized.reset();
    if (!stage.empty()) fs::remove_all(stage);
    const std::string file = fs::path(result.gguf_path).filename().string();
    partial.commit(force);
    result.output_dir = out_dir;
    result.gguf_path = (fs::path(out_dir) / file).string();
    qs::report(feedback, 1.0, "done");
    return result;
}

}  // namespace qs
