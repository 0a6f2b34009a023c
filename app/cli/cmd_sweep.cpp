// quantscope-cli sweep: runs every recipe of a grid on one model and appends each experiment to
// an HDF5 session file as soon as it completes (a crash loses at most the experiment in flight;
// --resume continues a session, skipping recipes it already holds).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/model/model_config.h"
#include "core/session/session_file.h"
#include "core/study/experiment_runner.h"
#include "core/study/session_header.h"
#include "core/study/sweep_grid.h"
#include "core/util/device.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

namespace fs = std::filesystem;

namespace qs::cli {
namespace {

std::string summary_line(const ExperimentRecord& r)
{
    std::string line = r.name + ":";
    for (const auto& p : r.perplexity) {
        char buf[96];
        std::snprintf(buf, sizeof buf, " %s ppl %.3f", p.dataset.c_str(), p.ppl);
        line += buf;
    }
    char buf[128];
    std::snprintf(buf, sizeof buf, ", %.3f MB, %.3f bits/w (linears %.3f), %.1f s",
                  r.size.bytes() / 1e6, r.size.bits_per_weight(), r.size.linear_bits_per_weight(),
                  r.quantize_seconds);
    return line + buf;
}

}  // namespace

int run_sweep(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"model", true, "model directory"},
        {"grid", true, "sweep grid YAML (methods x formats x orders x activations)"},
        {"session", true, "HDF5 session file to create (or continue with --resume)"},
        {"resume", false, "continue an existing session: skip recipes it already holds"},
        {"force", false, "replace an existing session file"},
        {"depth-samples", true, "calibration windows for the error across depth (default 16)"},
        {"outlier-k", true, "outlier channel: absmax above k x the median channel (default 6)"},
        {"no-stats", false, "skip weight/activation statistics (errors and ppl only)"},
        {"device", true, "cpu (default) or cuda:N"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << "usage: quantscope-cli sweep --model DIR --grid FILE --session FILE.h5 "
                     "[--resume | --force]\n\n"
                  << format_options(specs);
        return 0;
    }
    const std::string session = args.get("session");
    const SweepGrid grid = SweepGrid::load(args.get("grid"));
    auto model = CausalLM::open(args.get("model"), parse_device(args.get_or("device", "cpu")));
    Feedback feedback;
    attach_stderr_progress(feedback, args.has("quiet"));

    const bool exists = fs::exists(session);
    if (exists && !args.has("resume") && !args.has("force"))
        fail_file(session, "already exists (use --resume to continue it or --force to replace it)");
    std::set<std::string> done;
    if (exists && args.has("resume")) {
        const auto data = read_session(session);
        const auto sha = sha256_file_hex(model->directory() + "/config.json");
        if (data.header.model_config_sha256 != sha)
            fail_file(session, "was made with a different model config (" + data.header.model_path +
                                   "); start a new session");
        for (const auto& [id, name] : list_experiments(session))
            done.insert(name);
    } else {
        create_session(session, make_session_header(*model, grid.calibration), /*overwrite=*/true);
    }

    for (const auto& skipped : grid.skipped)
        std::fprintf(stderr, "skipped: %s\n", skipped.c_str());
    CalibrationCache cache(*model, grid.calibration);
    if (done.empty() && !(exists && args.has("resume"))) {
        StatsOptions stats;
        stats.outlier_k = std::stod(args.get_or("outlier-k", "6"));
        write_baseline(session, compute_baseline(*model, cache, stats, &feedback));
    }
    ExperimentSettings settings;
    settings.datasets = load_eval_datasets(*model, grid.datasets);
    settings.seqlen = grid.eval_seqlen;
    settings.limit_windows = grid.eval_limit;
    settings.analysis.depth_samples = args.get_int("depth-samples", 16);
    settings.analysis.statistics = !args.has("no-stats");
    settings.analysis.stats.outlier_k = std::stod(args.get_or("outlier-k", "6"));
    settings.work_dir = session + ".work";

    const std::size_t total = grid.recipes.size();
    std::size_t index = 0;
    for (const auto& recipe : grid.recipes) {
        ++index;
        if (done.count(recipe.name)) continue;
        const std::string id = next_experiment_id(session);
        ExperimentRecord record = run_experiment(*model, recipe, id, settings, &cache, &feedback);
        append_experiment(session, record);
        std::printf("[%zu/%zu] %s %s\n", index, total, id.c_str(), summary_line(record).c_str());
        std::fflush(stdout);
    }
    std::error_code ec;
    fs::remove_all(settings.work_dir, ec);
    const auto& c = cache.counters();
    std::fprintf(stderr,
                 "calibration cache: layer inputs served %lld times (%lld layer runs), "
                 "first-stage Hessians served %lld times (%lld computed)\n",
                 (long long)c.input_hits, (long long)c.input_computed, (long long)c.hessian_hits,
                 (long long)c.hessian_computed);
    std::printf("session: %s (%zu experiments)\n", session.c_str(),
                list_experiments(session).size());
    return 0;
}

}  // namespace qs::cli
