// quantscope-cli report: every experiment of a session as a Markdown table (size, bits per
// weight, perplexity per dataset, Pareto-frontier membership for one dataset) and a CSV file.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/analysis/pareto.h"
#include "core/quant/recipe.h"
#include "core/session/session_file.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs::cli {
namespace {

struct Row {
    std::string id, name, methods, weights, activations;
    double linear_bpw = 0, bpw = 0, megabytes = 0;
    std::map<std::string, double> ppl;
};

Row row_of(const ExperimentRecord& e)
{
    Row r{e.id, e.name, "-", "fp16", "-"};
    try {
        const Recipe recipe = Recipe::from_yaml(e.recipe_yaml, e.id);
        if (recipe.weights.kind != FormatKind::None) {
            r.methods.clear();
            for (auto m : recipe.methods)
                r.methods += (r.methods.empty() ? "" : "+") + method_name(m);
            r.weights = recipe.weights.name();
        }
        if (recipe.activations.kind != FormatKind::None) r.activations = recipe.activations.name();
    } catch (const QsError&) {
    }
    r.linear_bpw = e.size.linear_bits_per_weight();
    r.bpw = e.size.bits_per_weight();
    r.megabytes = e.size.bytes() / 1e6;
    for (const auto& p : e.perplexity)
        r.ppl[p.dataset] = p.ppl;
    return r;
}

std::string number(double v, const char* format)
{
    if (!std::isfinite(v)) return "nan";
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

}  // namespace

int run_report(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"session", true, "HDF5 session file (quantscope-cli sweep or the GUI) (required)",
         "FILE.h5"},
        {"dataset", true,
         "perplexity dataset label the frontier uses (default: the session's first one)", "LABEL"},
        {"csv", true, "CSV output (default: the session path with .csv)", "FILE"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << format_help(
            {{"quantscope-cli report --session FILE.h5 [--dataset LABEL] [--csv FILE]"},
             "Prints a Markdown table of a session's experiments (recipe, methods, formats, bits "
             "per weight, size, perplexity per dataset, Pareto frontier) and writes it as CSV.",
             "A point is on the Pareto frontier when no other experiment is at most as large and "
             "at most as\nperplex, and strictly better in one of the two; exact duplicates all "
             "stay on it.\n",
             {"quantscope-cli report --session /tmp/stories.h5 --csv /tmp/stories.csv"}},
            specs);
        return 0;
    }
    const std::string session = args.get("session");
    if (std::error_code ec; !fs::exists(session, ec))
        fail_file(session, "no such session file (quantscope-cli sweep and the GUI write them)");
    const SessionData data = read_session(session);
    std::vector<Row> rows;
    std::vector<std::string> labels;
    for (const auto& e : data.experiments) {
        rows.push_back(row_of(e));
        for (const auto& p : e.perplexity)
            if (std::find(labels.begin(), labels.end(), p.dataset) == labels.end())
                labels.push_back(p.dataset);
    }
    std::string frontier_label = args.get_or("dataset", labels.empty() ? "" : labels.front());
    if (!labels.empty() &&
        std::find(labels.begin(), labels.end(), frontier_label) == labels.end()) {
        std::string have;
        for (const auto& l : labels)
            have += (have.empty() ? "" : ", ") + l;
        throw UsageError("no dataset '" + frontier_label + "' in the session (it has: " + have +
                         ")");
    }
    std::vector<double> sizes, ppls;
    for (const auto& r : rows) {
        sizes.push_back(r.megabytes);
        auto it = r.ppl.find(frontier_label);
        ppls.push_back(it == r.ppl.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
    }
    const auto on_frontier = pareto_frontier(sizes, ppls);

    std::ostringstream md;
    md << "| id | recipe | methods | weights | activations | linear bits/w | bits/w | size MB |";
    for (const auto& l : labels)
        md << " ppl " << l << " |";
    md << " frontier (" << frontier_label << ") |\n|---|---|---|---|---|---|---|---|";
    for (std::size_t i = 0; i < labels.size(); ++i)
        md << "---|";
    md << "---|\n";
    std::ostringstream csv;
    csv << "id,recipe,methods,weights,activations,linear_bits_per_weight,bits_per_weight,size_mb";
    for (const auto& l : labels)
        csv << ",ppl_" << l;
    csv << ",frontier\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        md << "| " << r.id << " | " << r.name << " | " << r.methods << " | " << r.weights << " | "
           << r.activations << " | " << number(r.linear_bpw, "%.3f") << " | "
           << number(r.bpw, "%.3f") << " | " << number(r.megabytes, "%.4f") << " |";
        csv << r.id << "," << r.name << "," << r.methods << "," << r.weights << "," << r.activations
            << "," << number(r.linear_bpw, "%.6f") << "," << number(r.bpw, "%.6f") << ","
            << number(r.megabytes, "%.6f");
        for (const auto& l : labels) {
            auto it = r.ppl.find(l);
            const double v = it == r.ppl.end() ? std::nan("") : it->second;
            md << " " << number(v, "%.3f") << " |";
            csv << "," << number(v, "%.6f");
        }
        md << (on_frontier[i] ? " yes |" : " |") << "\n";
        csv << "," << (on_frontier[i] ? 1 : 0) << "\n";
    }
    std::cout << "# " << fs::path(session).filename().string() << ": " << rows.size()
              << " experiments on " << data.header.model_path << "\n\n"
              << md.str();
    const std::string csv_path =
        args.get_or("csv", fs::path(session).replace_extension(".csv").string());
    write_file_atomically(csv_path, [&](std::ostream& out) { out << csv.str(); });
    std::cerr << "wrote " << csv_path << "\n";
    return 0;
}

}  // namespace qs::cli
