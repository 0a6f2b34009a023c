// The GUI's handle on the engine: one model opened once, the calibration shared by every
// experiment (the full-precision layer inputs and GPTQ Hessians are computed once and reused,
// as `quantscope-cli sweep` does), and the two things the workbench runs: the baseline
// statistics and one experiment per recipe (quantize with the recipe's layer range and
// full-precision layers, gather statistics and errors, evaluate perplexity, size).
//
// This header is torch-free (the model and the cache live behind a pimpl) because Qt widgets
// include it, and Qt and libtorch never meet in one translation unit.
//
// Threading: a Workbench is used from one worker thread at a time (the GUI's JobQueue runs its
// jobs serially on one thread); the long calls also take a mutex, so a second caller waits
// rather than corrupting the shared cache. The constructor opens the model (memory map and
// tokenizer: cheap, no tensor is read) and may run on any thread.
//
// Cancellation: every long call takes a Feedback token and throws CancelledError at a
// consistent point; nothing half-done remains (the experiment's temporary checkpoint is
// removed, the calibration cache only ever holds complete entries), so the next call works
// and gives the same result as on a fresh Workbench.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/experiment_record.h"
#include "core/analysis/stats_types.h"
#include "core/quant/recipe.h"

namespace qs {

class Feedback;

struct WorkbenchSettings {
    // The calibration every recipe of the session shares (a recipe with other calibration
    // settings still runs, calibrating on its own without the cache).
    CalibrationSettings calibration;
    std::vector<std::string> eval_datasets;  // "label=path" (or a bare path: label = stem)
    std::int64_t eval_seqlen = 512;
    std::int64_t eval_windows = 40;  // per dataset; 0 = every window
    int depth_samples = 16;          // calibration windows for the error across depth
    bool statistics = true;          // weight/activation statistics per stage
    StatsOptions stats;
    std::string device = "cpu";  // "cpu", "cuda", "cuda:N"
    // The dtype the model runs in: "fp32", "bf16" or "fp16" (core/model/compute_dtype.h).
    std::string compute_dtype = "fp32";
    // Where experiments write their temporary checkpoints; empty: a folder under the system's
    // temporary directory, removed with the Workbench.
    std::string work_dir;
};

class Workbench {
public:
    // Opens the model; throws QsError (unreadable model, unknown device).
    Workbench(const std::string& model_dir, WorkbenchSettings settings);
    ~Workbench();
    Workbench(const Workbench&) = delete;
    Workbench& operator=(const Workbench&) = delete;

    const std::string& model_dir() const;
    const WorkbenchSettings& settings() const;
    int num_layers() const;
    // A new session's header: this model and the shared calibration.
    SessionHeader session_header() const;

    // Full-precision statistics of every linear (stage "original") on the shared calibration.
    std::vector<LinearRecord> compute_baseline(Feedback* feedback = nullptr);
    // One experiment; `recipe` is used as given (its calibration should equal
    // settings().calibration for the cache to serve it: see recipe_defaults()).
    ExperimentRecord run_experiment(const Recipe& recipe, const std::string& id,
                                    Feedback* feedback = nullptr);

    // Writes the recipe's quantized checkpoint for other tools: format "fake", "gptq",
    // "gptq-v2", "awq", "compressed-tensors", "mx" or "gguf-<type>" (f32, f16, q8_0, q4_0,
    // mxfp4; the recipe's values are checked exact). Refusals (a recipe the format cannot
    // express) come before anything is written; nothing is left under out_dir on failure.
    // Returns a one-line summary.
    std::string export_checkpoint(const Recipe& recipe, const std::string& format,
                                  const std::string& out_dir, bool force,
                                  Feedback* feedback = nullptr);
    // The formats export_checkpoint accepts, for menus.
    static std::vector<std::string> export_formats();

    // A recipe carrying this workbench's calibration (what a recipe editor starts from).
    Recipe recipe_defaults() const;

    // WikiText-2 validation text for calibration (32 windows of 256 tokens; data-free when the
    // file is missing), WikiText-2 test and PTB test for perplexity (40 windows of 512 tokens)
    // when they exist under shared_dir/data.
    static WorkbenchSettings default_settings(const std::string& model_dir,
                                              const std::string& shared_dir);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace qs
