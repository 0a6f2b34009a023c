#include "core/export/checkpoint_export.h"

#include <algorithm>
#include <filesystem>

#include "core/export/export_ct_mxfp4.h"
#include "core/export/export_files.h"
#include "core/export/export_int_layouts.h"
#include "core/export/export_mx.h"
#include "core/model/checkpoint_names.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/feedback_span.h"
#include "core/util/partial_directory.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

bool is_int_layout(ExportFormat f)
{
    return f == ExportFormat::Gptq || f == ExportFormat::Awq ||
           f == ExportFormat::CompressedTensors;
}

bool is_intermediate_out(const std::string& module)
{
    return module == "mlp.gate_proj" || module == "mlp.up_proj" || module == "fc1";
}
bool is_intermediate_in(const std::string& module)
{
    return module == "mlp.down_proj" || module == "fc2";
}

std::string layer_list(const std::vector<int>& layers)
{
    std::string s;
    for (int i : layers)
        s += (s.empty() ? "" : ", ") + std::to_string(i);
    return s;
}

// compressed-tensors' mxfp4-pack-quantized: E2M1 elements in blocks of 32.
bool is_ct_mxfp4(const QuantFormat& w)
{
    return w.kind == FormatKind::Mx && w.element == MxElement::Fp4E2M1 &&
           w.block_size == kMxfp4BlockSize;
}

std::string alignment_refusal(const CausalLM& model, ExportFormat format, const QuantFormat& w);

std::string int_layout_refusal(const CausalLM& model, const Recipe& recipe, ExportFormat format)
{
    const QuantFormat& w = recipe.weights;
    const std::string name = export_format_name(format);
    const bool ct = format == ExportFormat::CompressedTensors;
    if (w.kind != FormatKind::Int && !(ct && is_ct_mxfp4(w)))
        return name + " stores integer weights" + (ct ? std::string(" or mxfp4-32") : "") +
               " only, not " +
               (w.kind == FormatKind::None ? std::string("unquantized weights") : w.name());
    if (recipe.activations.kind != FormatKind::None)
        return name + " is weight-only: the activation quantization " + recipe.activations.name() +
               " would be lost";
    if (w.kind == FormatKind::Mx) return alignment_refusal(model, format, w);
    const std::vector<int> allowed = format == ExportFormat::Gptq  ? std::vector<int>{2, 3, 4, 8}
                                     : format == ExportFormat::Awq ? std::vector<int>{4}
                                                                   : std::vector<int>{4, 8};
    if (std::find(allowed.begin(), allowed.end(), w.bits) == allowed.end())
        return name + " holds " + layer_list(allowed) + "-bit weights, not " + w.name();
    if (format == ExportFormat::Awq && w.granularity != Granularity::Group)
        return "awq needs weight groups (e.g. int4-g128-asym), not " + w.name();
    if (format == ExportFormat::Awq && recipe.uses(Method::Gptq) && recipe.gptq.act_order &&
        !recipe.gptq.static_groups)
        return "awq has no g_idx for GPTQ act-order groups (use static_groups, or gptq)";
    const int layers = model.num_layers();
    std::vector<int> kept;
    for (int i = 0; i < layers; ++i)
        if (!recipe.quantizes_layer(i, layers)) kept.push_back(i);
    if (!kept.empty() && format != ExportFormat::CompressedTensors)
        return name + " loaders expect every linear quantized; layers " + layer_list(kept) +
               " stay in full precision";
    return alignment_refusal(model, format, w);
}

std::string alignment_refusal(const CausalLM& model, ExportFormat format, const QuantFormat& w)
{
    const std::string name = export_format_name(format);
    const auto a = int_layout_alignment(format, w);
    const auto names = checkpoint_names(model.config(), model.store());
    for (const auto& module : decoder_linear_names(model.config())) {
        const auto& shape = model.store().info(names.layer_prefix(0) + module + ".weight").shape;
        if (!is_intermediate_in(module) && shape[1] % a.in != 0)
            return module + " has " + std::to_string(shape[1]) + " inputs, not a multiple of " +
                   std::to_string(a.in) + " (" + name + " packing and groups of " + w.name() + ")";
        if (!is_intermediate_out(module) && shape[0] % a.out != 0)
            return module + " has " + std::to_string(shape[0]) + " outputs, not a multiple of " +
                   std::to_string(a.out) + " (" + name + " packing)";
    }
    return {};
}

nlohmann::json mx_quantization_config(const Recipe& recipe)
{
    const QuantFormat& w = recipe.weights;
    return {
        {"quant_method", "quantscope-mx"},
        {"format_version", 1},
        {"weights", w.name()},
        {"element_bits", w.element_bits()},
        {"block_size", w.block_size},
        {"activations", recipe.activations.kind == FormatKind::None ? std::string("none")
                                                                    : recipe.activations.name()},
        {"recipe", recipe.to_yaml()}};
}

}  // namespace

std::vector<std::string> recipe_linears(const CausalLM& model, const Recipe& recipe, bool quantized)
{
    const auto names = checkpoint_names(model.config(), model.store());
    std::vector<std::string> out;
    for (int i = 0; i < model.num_layers(); ++i)
        if (recipe.quantizes_layer(i, model.num_layers()) == quantized)
            for (const auto& module : decoder_linear_names(model.config()))
                out.push_back(names.layer_prefix(i) + module);
    return out;
}

std::string export_format_name(ExportFormat format)
{
    switch (format) {
        case ExportFormat::Fake:
            return "fake";
        case ExportFormat::Gptq:
            return "gptq";
        case ExportFormat::Awq:
            return "awq";
        case ExportFormat::CompressedTensors:
            return "compressed-tensors";
        case ExportFormat::Mx:
            return "mx";
    }
    return "?";
}

std::vector<ExportFormat> all_export_formats()
{
    return {ExportFormat::Fake, ExportFormat::Gptq, ExportFormat::Awq,
            ExportFormat::CompressedTensors, ExportFormat::Mx};
}

ExportFormat parse_export_format(const std::string& name)
{
    std::string known;
    for (auto f : all_export_formats()) {
        if (export_format_name(f) == name) return f;
        known += (known.empty() ? "" : ", ") + export_format_name(f);
    }
    throw QsError("unknown export format '" + name + "' (known: " + known + ")");
}

std::string export_refusal(const CausalLM& model, const Recipe& recipe, ExportFormat format,
                           const ExportOptions&)
{
    switch (format) {
        case ExportFormat::Fake:
            return {};
        case ExportFormat::Mx:
            if (recipe.weights.kind != FormatKind::Mx)
                return "mx stores MX weights only, not " + (recipe.weights.kind == FormatKind::None
                                                                ? std::string("unquantized weights")
                                                                : recipe.weights.name());
            return {};
        default:
            return int_layout_refusal(model, recipe, format);
    }
}

std::vector<ExportFormat> export_formats_for(const CausalLM& model, const Recipe& recipe,
                                             const ExportOptions& options)
{
    std::vector<ExportFormat> out;
    for (auto f : all_export_formats())
        if (export_refusal(model, recipe, f, options).empty()) out.push_back(f);
    return out;
}

ExportResult export_checkpoint(const CausalLM& model, const Recipe& recipe, ExportFormat format,
                               const std::string& out_dir, const ExportOptions& options,
                               Feedback* feedback)
{
    if (fs::exists(out_dir) && !options.force)
        fail_file(out_dir, "already exists (use --force to replace it)");
    if (auto why = export_refusal(model, recipe, format, options); !why.empty()) {
        std::string fits;
        for (auto f : export_formats_for(model, recipe, options))
            fits += (fits.empty() ? "" : ", ") + export_format_name(f);
        throw QsError("cannot export recipe " + recipe.name + " as " + export_format_name(format) +
                      ": " + why + "; formats that fit: " + fits);
    }
    ExportResult result;
    result.intermediate_size = model.config().intermediate_size;
    QuantizeOptions qopt;
    qopt.cache = options.cache;
    if (format == ExportFormat::Fake) {
        qopt.force = options.force;
        qopt.fp16_scales = options.fp16_scales;
        result.quantize = quantize_model(model, recipe, out_dir, qopt, feedback);
        result.output_dir = out_dir;
        return result;
    }

    PartialDirectory partial(out_dir);
    const std::string fake_dir = partial.path() + "/quantized-fake";
    const bool int_layout = is_int_layout(format);
    const bool int_weights = recipe.weights.kind == FormatKind::Int;
    qopt.write_quant_params = int_layout && int_weights;
    qopt.fp16_scales = int_layout && int_weights;
    {
        FeedbackSpan span(feedback, 0.0, 0.9);
        result.quantize = quantize_model(model, recipe, fake_dir, qopt, span.get());
    }
    report(feedback, 0.9, "writing " + export_format_name(format));

    auto config = read_json(fake_dir + "/config.json");
    if (int_layout) {
        IntLayoutJob job;
        job.format = format;
        job.weights = recipe.weights;
        job.gptq_v2 = options.gptq_v2;
        job.intermediate_size = model.config().intermediate_size;
        job.padded_intermediate = padded_intermediate_size(
            job.intermediate_size, int_layout_alignment(format, recipe.weights));
        const auto ignore = recipe_linears(model, recipe, false);
        nlohmann::json qconfig;
        if (int_weights) {
            write_int_layout(fake_dir, partial.path(), job);
            qconfig = int_quantization_config(job, recipe, ignore);
        } else {
            std::vector<std::string> weights;
            for (const auto& module : recipe_linears(model, recipe, true))
                weights.push_back(module + ".weight");
            write_ct_mxfp4_layout(fake_dir, partial.path(), weights, job.intermediate_size,
                                  job.padded_intermediate);
            qconfig = ct_mxfp4_quantization_config(ignore);
        }
        config["quantization_config"] = qconfig;
        config["torch_dtype"] = "float16";
        const char* key = config.contains("ffn_dim") ? "ffn_dim" : "intermediate_size";
        config[key] = job.padded_intermediate;
        result.intermediate_size = job.padded_intermediate;
        if (format == ExportFormat::Gptq)
            write_json(partial.path() + "/quantize_config.json", qconfig);
    } else {
        std::vector<std::string> weights;
        for (const auto& module : recipe_linears(model, recipe, true))
            weights.push_back(module + ".weight");
        write_mx_checkpoint(fake_dir, partial.path(), recipe.weights, weights);
        config["quantization_config"] = mx_quantization_config(recipe);
    }
    write_json(partial.path() + "/config.json", config);
    copy_side_files(fake_dir, partial.path());
    fs::remove(partial.path() + "/" + kQuantParamsFile);
    fs::remove_all(fake_dir);
    if (feedback) feedback->check_cancelled();
    partial.commit(/*replace=*/true);  // an existing target only gets here with options.force
    result.output_dir = out_dir;
    report(feedback, 1.0, "done");
    return result;
}

}  // namespace qs
