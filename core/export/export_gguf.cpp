#include "core/export/export_gguf.h"

#include <filesystem>

#include <torch/torch.h>

#include "core/export/checkpoint_export.h"
#include "core/export/gguf_llama.h"
#include "core/export/gguf_reader.h"
#include "core/io/tensor_torch.h"
#include "core/model/causal_lm.h"
#include "core/model/checkpoint_names.h"
#include "core/quant/recipe.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/feedback_span.h"
#include "core/util/partial_directory.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

const char* k_fitting_recipes =
    "recipes that fit: mxfp4-32 weights for --gguf-type mxfp4; llama.cpp's Q8_0 "
    "(d = absmax/127) and Q4_0 (d = signed max/-8) scales are no QuantScope INT recipe's, so "
    "export those without --recipe (llama.cpp's own rule) or use --format gptq/awq/"
    "compressed-tensors for INT recipes";

// Every quantized linear of `quantized` must read back from the GGUF file bit for bit.
int check_exact(const CausalLM& quantized, const Recipe& recipe, const std::string& gguf_path,
                gguf::TensorType type)
{
    const gguf::GgufReader reader(gguf_path);
    const auto& config = quantized.config();
    const auto names = decoder_linear_names(config);
    int checked = 0;
    for (int layer = 0; layer < quantized.num_layers(); ++layer) {
        if (!recipe.quantizes_layer(layer, quantized.num_layers())) continue;
        for (const auto& module : names) {
            const std::string hf =
                "model.layers." + std::to_string(layer) + "." + module + ".weight";
            torch::Tensor expected = load_tensor(quantized.store(), hf);
            if (module == "self_attn.q_proj")
                expected = gguf::permute_qk_for_gguf(expected, config.num_heads);
            else if (module == "self_attn.k_proj")
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
                throw QsError(
                    std::string("GGUF ") + gguf::tensor_type_name(type) +
                    " cannot hold the values of recipe '" + recipe.name + "' exactly (" + hf +
                    " differs; " +
                    (info.type != type ? "its rows were written as a fallback type; " : "") +
                    k_fitting_recipes + ")");
            ++checked;
        }
    }
    return checked;
}

}  // namespace

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
    if (recipe && recipe->activations.kind != FormatKind::None)
        throw QsError("recipe '" + recipe->name +
                      "' quantizes activations; a GGUF file holds weights only (llama.cpp "
                      "chooses its own activation types)");
    PartialDirectory partial(out_dir);
    GgufExportResult result;
    std::unique_ptr<CausalLM> quantized;
    std::string stage;
    if (recipe) {
        // The recipe's dequantized weights, in a fake checkpoint beside the target.
        stage = partial.path() + "/quantized";
        FeedbackSpan span(feedback, 0.0, 0.7, "quantize: ");
        export_checkpoint(model, *recipe, ExportFormat::Fake, stage, {}, span.get());
        quantized = CausalLM::open(stage, model.device());
    }
    const CausalLM& source = quantized ? *quantized : model;
    const std::string name = fs::path(model.directory()).lexically_normal().filename().string();
    result.gguf_path = partial.path() + "/" + (name.empty() || name == "." ? "model" : name) + "-" +
                       gguf::tensor_type_name(type) + ".gguf";
    gguf::GgufLlamaOptions options;
    options.weight_type = type;
    gguf::GgufLlamaReport report;
    {
        FeedbackSpan span(feedback, recipe ? 0.7 : 0.0, 0.95, "gguf: ");
        gguf::write_llama_gguf(source, result.gguf_path, options, span.get(), &report);
    }
    result.fallback_tensors = report.fallback_tensors;
    if (recipe) result.exact_linears = check_exact(*quantized, *recipe, result.gguf_path, type);
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
