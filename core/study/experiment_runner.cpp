#include "core/study/experiment_runner.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "core/analysis/model_size.h"
#include "core/analysis/tensor_stats.h"
#include "core/eval/dataset_text.h"
#include "core/eval/perplexity.h"
#include "core/model/checkpoint_names.h"
#include "core/model/model_info.h"
#include "core/quant/calibration.h"
#include "core/quant/quantize_model.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/feedback_span.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

// Removes the experiment's temporary checkpoint however the experiment ends.
struct ScratchDirectory {
    std::string path;
    ~ScratchDirectory()
    {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

// Tokens the evaluation of one dataset runs through the model (for progress shares).
double evaluation_tokens(const EvalDataset& dataset, const ExperimentSettings& settings)
{
    const double all = double(dataset.tokens.size());
    return settings.limit_windows > 0
               ? std::min(all, double(settings.limit_windows) * double(settings.seqlen))
               : all;
}

// Evaluates every dataset; their reports share [begin, 1] of `feedback` by token count.
std::vector<PerplexityRecord> evaluate_all(const CausalLM& model,
                                           const ExperimentSettings& settings, Feedback* feedback,
                                           double begin = 0.0)
{
    double total = 0;
    for (const auto& dataset : settings.datasets)
        total += evaluation_tokens(dataset, settings);
    std::vector<PerplexityRecord> out;
    double at = begin;
    for (const auto& dataset : settings.datasets) {
        PerplexityOptions options;
        options.seqlen = settings.seqlen;
        options.limit_windows = settings.limit_windows;
        const std::string stage = "perplexity on " + dataset.label;
        report(feedback, at, stage);
        const double share =
            total > 0 ? (1.0 - begin) * evaluation_tokens(dataset, settings) / total : 0.0;
        FeedbackSpan span(feedback, at, at + share, stage + " · ");
        auto r = evaluate_perplexity(model, dataset.tokens, options, span.get());
        out.push_back({dataset.label, dataset.path, r.window_length, r.windows, r.ppl, r.seconds});
        at += share;
    }
    return out;
}

// Share of an experiment's progress that quantization (with its analysis) takes, the rest
// being evaluation. A rough cost model: quantizing runs about eight passes of each layer over
// the calibration tokens (statistics per stage, errors, Hessians per GPTQ stage, outputs),
// evaluation one pass over the evaluation tokens.
double quantization_share(const Recipe& recipe, const ExperimentSettings& settings)
{
    const double calibration_tokens =
        double(recipe.needs_calibration()
                   ? recipe.calibration.samples
                   : std::min<std::int64_t>(recipe.calibration.samples,
                                            settings.analysis.depth_samples)) *
        double(recipe.calibration.seqlen);
    double eval = 0;
    for (const auto& dataset : settings.datasets)
        eval += evaluation_tokens(dataset, settings);
    const double quantize = 8.0 * calibration_tokens;
    return quantize + eval > 0 ? quantize / (quantize + eval) : 1.0;
}

}  // namespace

std::string utc_timestamp()
{
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return buf;
}

std::vector<EvalDataset> load_eval_datasets(const CausalLM& model,
                                            const std::vector<std::string>& specs)
{
    std::vector<EvalDataset> out;
    for (const auto& spec : specs) {
        EvalDataset d;
        const auto eq = spec.find('=');
        d.path = eq == std::string::npos ? spec : spec.substr(eq + 1);
        d.label = eq == std::string::npos ? fs::path(d.path).stem().string() : spec.substr(0, eq);
        d.tokens = model.tokenizer().encode(load_eval_text(d.path));
        out.push_back(std::move(d));
    }
    return out;
}

bool is_full_precision(const Recipe& recipe)
{
    return recipe.weights.kind == FormatKind::None && recipe.activations.kind == FormatKind::None;
}

ExperimentRecord run_experiment(const CausalLM& model, const Recipe& recipe, const std::string& id,
                                const ExperimentSettings& settings, CalibrationCache* cache,
                                Feedback* feedback)
{
    ExperimentRecord record;
    record.id = id;
    record.name = recipe.name;
    record.recipe_yaml = recipe.to_yaml();
    record.created = utc_timestamp();
    record.warnings = recipe.warnings();
    const ModelInfo info = ModelInfo::load(model.directory());
    if (is_full_precision(recipe)) {
        record.size = model_size_fp16(info);
        record.perplexity = evaluate_all(model, settings, feedback);
        return record;
    }
    record.size = model_size(info, recipe);
    const double quantize_end = quantization_share(recipe, settings);
    const double prepare_end = 0.05 * quantize_end;

    // The depth stream and RTN's statistics use the calibration windows' embeddings.
    torch::Tensor depth_inputs;
    {
        report(feedback, 0.0, "calibration data");
        FeedbackSpan span(feedback, 0.0, prepare_end, "calibration data · ");
        if (cache && cache->serves(recipe.calibration)) {
            depth_inputs = cache->fp_inputs(0, span.get());
        } else {
            auto settings_small = recipe.calibration;
            settings_small.samples =
                std::min<std::int64_t>(settings_small.samples, settings.analysis.depth_samples);
            depth_inputs = model.embed(
                calibration_windows(model, settings_small, span.get()).to(model.device()));
        }
    }
    ExperimentAnalysis analysis(model.config(), recipe, depth_inputs, settings.analysis);

    fs::create_directories(settings.work_dir);
    ScratchDirectory scratch{(fs::path(settings.work_dir) / (id + ".checkpoint")).string()};
    QuantizeOptions options;
    options.force = true;
    options.cache = cache;
    options.observer = &analysis;
    QuantizeResult result;
    {
        FeedbackSpan span(feedback, prepare_end, quantize_end);
        result = quantize_model(model, recipe, scratch.path, options, span.get());
    }
    record.quantize_seconds = result.seconds;
    for (const auto& layer : result.layers)
        for (const auto& note : layer.notes)
            record.notes.push_back("layer " + std::to_string(layer.layer) + ": " + note);
    record.linears = analysis.linears();
    record.depth = analysis.depth();

    auto quantized = CausalLM::open(scratch.path, model.device(), /*with_tokenizer=*/false,
                                    model.compute_dtype());
    record.perplexity = evaluate_all(*quantized, settings, feedback, quantize_end);
    return record;
}

std::vector<LinearRecord> compute_baseline(const CausalLM& model, CalibrationCache& cache,
                                           const StatsOptions& options, Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    const auto& config = model.config();
    std::vector<LinearRecord> out;
    for (int layer = 0; layer < model.num_layers(); ++layer) {
        const std::string stage = "baseline statistics, layer " + std::to_string(layer);
        report(feedback, double(layer) / model.num_layers(), stage);
        FeedbackSpan span(feedback, double(layer) / model.num_layers(),
                          double(layer + 1) / model.num_layers(), stage + " · ");
        auto inputs = cache.fp_inputs(layer, span.get());
        LayerWeights weights = model.load_layer(layer);
        auto context = make_layer_context(config, inputs.size(1), model.device());
        auto activations = layer_activation_stats(config, weights, inputs, context, options);
        const auto modules = decoder_linear_names(config);
        for (const auto& module : modules) {
            const auto& w = weights.get(module + ".weight");
            LinearRecord r;
            r.layer = layer;
            r.module = module;
            r.out_features = w.size(0);
            r.in_features = w.size(1);
            r.weight_stats["original"] = compute_weight_tensor_stats(w, options);
            r.activation_stats["original"] = std::move(activations.at(module));
            out.push_back(std::move(r));
        }
    }
    return out;
}

}  // namespace qs
