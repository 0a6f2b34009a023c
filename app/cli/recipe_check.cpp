#include "app/cli/recipe_check.h"

#include <cstdio>
#include <iostream>

#include "core/analysis/model_size.h"
#include "core/quant/calibration.h"
#include "core/export/checkpoint_export.h"
#include "core/export/export_gguf.h"
#include "core/model/causal_lm.h"
#include "core/model/model_info.h"

namespace qs::cli {
namespace {

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "none" : out;
}

// Why GGUF `type` cannot hold the recipe for this model ("" when it can). F16 holds a recipe's
// values exactly only when they are fp16 values: MX values (a power of two times a short
// element) are; INT and FP8 values with float32 scales are not, and export_gguf refuses them
// once it has compared the file with the weights.
std::string gguf_refusal(const Recipe& recipe, const CausalLM& model, const char* type)
{
    const auto& c = model.config();
    if (c.model_type != "llama" && c.model_type != "mistral")
        return "GGUF export takes llama and mistral models, not " + c.model_type;
    std::string why = gguf_recipe_refusal(recipe, parse_gguf_export_type(type));
    // Drop the "recipe 'R' cannot be written as GGUF T: " the export error starts with.
    const std::string prefix =
        "recipe '" + recipe.name + "' cannot be written as GGUF " + type + ": ";
    if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
    if (!why.empty()) return why;
    if (std::string(type) == "f16" && recipe.weights.kind != FormatKind::Mx)
        return "f16 holds the recipe's values exactly only when they are fp16 values (MX "
               "recipes); INT and FP8 values with float32 scales are not";
    return {};
}

}  // namespace

std::vector<std::string> recipe_warnings(const Recipe& recipe, const CausalLM* model)
{
    std::vector<std::string> out = recipe.warnings();
    if (!model) return out;
    // quantize_model's own rule, warned about before the work starts.
    if (recipe.needs_calibration())
        fit_calibration_to_context(recipe.calibration, model->config(), out);
    if (recipe.first_layer >= model->num_layers())
        out.push_back("layers [" + std::to_string(recipe.first_layer) + ", " +
                      std::to_string(recipe.last_layer) + "] start past the model's last layer " +
                      std::to_string(model->num_layers() - 1) + ": nothing is quantized");
    return out;
}

void print_recipe_check(const Recipe& recipe, const CausalLM* model)
{
    std::cout << recipe.to_yaml();
    if (!model) return;
    const int layers = model->num_layers();
    std::vector<std::string> kept;
    int quantized = 0;
    for (int i = 0; i < layers; ++i) {
        if (recipe.quantizes_layer(i, layers))
            ++quantized;
        else
            kept.push_back(std::to_string(i));
    }
    const ModelSize size = model_size(ModelInfo::load(model->directory()), recipe);
    std::printf("# %s: %d of %d decoder layers quantized (full precision: %s)\n",
                model->directory().c_str(), quantized, layers, joined(kept).c_str());
    std::printf("# size: %lld bytes, %.3f bits per weight (decoder linears %.3f)\n",
                static_cast<long long>(size.bytes()), size.bits_per_weight(),
                size.linear_bits_per_weight());
    std::vector<std::string> fits, refused;
    for (auto f : all_export_formats()) {
        const std::string why = export_refusal(*model, recipe, f);
        if (why.empty())
            fits.push_back(export_format_name(f));
        else
            refused.push_back(export_format_name(f) + ": " + why);
    }
    std::vector<std::string> gguf_fits, gguf_refused;
    for (const char* type : {"f32", "f16", "q8_0", "q4_0", "mxfp4"}) {
        const std::string why = gguf_refusal(recipe, *model, type);
        if (why.empty())
            gguf_fits.push_back(type);
        else
            gguf_refused.push_back(std::string(type) + ": " + why);
    }
    std::printf("# export --format that fit: %s\n", joined(fits).c_str());
    for (const auto& why : refused)
        std::printf("#   not %s\n", why.c_str());
    std::printf("# export --format gguf --gguf-type that fit: %s\n", joined(gguf_fits).c_str());
    for (const auto& why : gguf_refused)
        std::printf("#   not %s\n", why.c_str());
}

}  // namespace qs::cli
