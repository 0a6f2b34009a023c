#include "core/study/workbench.h"

#include "core/export/checkpoint_export.h"
#include "core/export/export_gguf.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>

#include <unistd.h>

#include "core/model/causal_lm.h"
#include "core/model/compute_dtype.h"
#include "core/model/model_config.h"
#include "core/quant/calibration_cache.h"
#include "core/study/experiment_runner.h"
#include "core/study/session_header.h"
#include "core/util/device.h"
#include "core/util/feedback.h"

namespace fs = std::filesystem;

namespace qs {

struct Workbench::Impl {
    std::string model_dir;
    WorkbenchSettings settings;
    std::unique_ptr<CausalLM> model;
    std::unique_ptr<CalibrationCache> cache;
    // Built on the first experiment (tokenizing the evaluation texts runs on the worker).
    std::optional<ExperimentSettings> experiment;
    bool own_work_dir = false;
    std::mutex mutex;  // the cache and the model's lazily loaded parts are not thread-safe

    const ExperimentSettings& experiment_settings()
    {
        if (experiment) return *experiment;
        ExperimentSettings s;
        s.datasets = load_eval_datasets(*model, settings.eval_datasets);
        s.seqlen = settings.eval_seqlen;
        s.limit_windows = settings.eval_windows;
        s.analysis.stats = settings.stats;
        s.analysis.statistics = settings.statistics;
        s.analysis.depth_samples = settings.depth_samples;
        s.work_dir = settings.work_dir;
        return *(experiment = std::move(s));
    }
};

Workbench::Workbench(const std::string& model_dir, WorkbenchSettings settings)
    : m_impl(std::make_unique<Impl>())
{
    m_impl->model_dir = model_dir;
    m_impl->model =
        CausalLM::open(model_dir, parse_device(settings.device),
                       /*with_tokenizer=*/true, parse_compute_dtype(settings.compute_dtype));
    if (settings.work_dir.empty()) {
        settings.work_dir =
            (fs::temp_directory_path() / ("quantscope-work-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(reinterpret_cast<std::uintptr_t>(this))))
                .string();
        m_impl->own_work_dir = true;
    }
    m_impl->settings = std::move(settings);
    m_impl->cache =
        std::make_unique<CalibrationCache>(*m_impl->model, m_impl->settings.calibration);
}

Workbench::~Workbench()
{
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->own_work_dir) {
        std::error_code ec;
        fs::remove_all(m_impl->settings.work_dir, ec);
    }
}

const std::string& Workbench::model_dir() const
{
    return m_impl->model_dir;
}

const WorkbenchSettings& Workbench::settings() const
{
    return m_impl->settings;
}

int Workbench::num_layers() const
{
    return m_impl->model->num_layers();
}

SessionHeader Workbench::session_header() const
{
    return make_session_header(*m_impl->model, m_impl->settings.calibration);
}

std::vector<LinearRecord> Workbench::compute_baseline(Feedback* feedback)
{
    std::lock_guard lock(m_impl->mutex);
    return qs::compute_baseline(*m_impl->model, *m_impl->cache, m_impl->settings.stats, feedback);
}

ExperimentRecord Workbench::run_experiment(const Recipe& recipe, const std::string& id,
                                           Feedback* feedback)
{
    std::lock_guard lock(m_impl->mutex);
    report(feedback, 0.0, "preparing");
    const ExperimentSettings& settings = m_impl->experiment_settings();
    return qs::run_experiment(*m_impl->model, recipe, id, settings, m_impl->cache.get(), feedback);
}

std::vector<std::string> Workbench::export_formats()
{
    return {"fake",     "gptq",     "gptq-v2",   "awq",       "compressed-tensors", "mx",
            "gguf-f32", "gguf-f16", "gguf-q8_0", "gguf-q4_0", "gguf-mxfp4"};
}

std::string Workbench::export_checkpoint(const Recipe& recipe, const std::string& format,
                                         const std::string& out_dir, bool force, Feedback* feedback)
{
    std::lock_guard lock(m_impl->mutex);
    if (format.rfind("gguf-", 0) == 0) {
        const auto result =
            export_gguf(*m_impl->model, &recipe, parse_gguf_export_type(format.substr(5)), out_dir,
                        force, feedback);
        return result.gguf_path + " (" + std::to_string(result.exact_linears) +
               " quantized linears hold the recipe's values exactly)";
    }
    ExportOptions options;
    options.force = force;
    options.gptq_v2 = format == "gptq-v2";
    options.cache = m_impl->cache.get();
    const auto result = qs::export_checkpoint(
        *m_impl->model, recipe, parse_export_format(options.gptq_v2 ? "gptq" : format), out_dir,
        options, feedback);
    return result.output_dir;
}

Recipe Workbench::recipe_defaults() const
{
    Recipe recipe;
    recipe.calibration = m_impl->settings.calibration;
    return recipe;
}

WorkbenchSettings Workbench::default_settings(const std::string& model_dir,
                                              const std::string& shared_dir)
{
    WorkbenchSettings s;
    const fs::path data = fs::path(shared_dir) / "data";
    s.calibration.samples = 32;
    s.calibration.seqlen = 256;
    s.calibration.seed = 0;
    if (const auto valid = data / "wikitext-2" / "valid.txt"; fs::exists(valid))
        s.calibration.dataset = valid.string();
    if (const auto wiki = data / "wikitext-2-raw" / "wiki.test.raw"; fs::exists(wiki))
        s.eval_datasets.push_back("wikitext2=" + wiki.string());
    if (const auto ptb = data / "ptb" / "ptb.test.txt"; fs::exists(ptb))
        s.eval_datasets.push_back("ptb=" + ptb.string());
    s.eval_seqlen = 512;
    s.eval_windows = 40;
    // Small models have short contexts: windows never exceed what the model was trained on.
    try {
        const auto config = ModelConfig::load(model_dir + "/config.json");
        if (config.max_position_embeddings > 0) {
            s.eval_seqlen = std::min(s.eval_seqlen, config.max_position_embeddings);
            s.calibration.seqlen = std::min(s.calibration.seqlen, config.max_position_embeddings);
        }
    } catch (const std::exception&) {
        // An unreadable config fails later, when the Workbench opens the model.
    }
    return s;
}

}  // namespace qs
