// What the main window selects by itself: when a session opens (or its first experiment
// arrives) with nothing selected, the best experiment and its worst linear, so that every view
// shows data before the first click.
#include <cmath>
#include <limits>

#include "widgets/main_window.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

bool isQuantized(const qs::ExperimentRecord& e)
{
    for (const auto& linear : e.linears)
        if (!linear.method.empty()) return true;
    return false;
}

}  // namespace

QString bestExperimentId(const qs::SessionData& data)
{
    // The first dataset any experiment was evaluated on: the Pareto view's default too.
    std::string dataset;
    for (const auto& e : data.experiments)
        if (dataset.empty() && !e.perplexity.empty()) dataset = e.perplexity.front().dataset;
    QString best, firstQuantized;
    double bestPpl = std::numeric_limits<double>::infinity();
    for (const auto& e : data.experiments) {
        if (!isQuantized(e)) continue;  // the reference explains no quantization
        if (firstQuantized.isEmpty()) firstQuantized = QString::fromStdString(e.id);
        for (const auto& p : e.perplexity)
            if (p.dataset == dataset && std::isfinite(p.ppl) && p.ppl < bestPpl) {
                bestPpl = p.ppl;
                best = QString::fromStdString(e.id);
            }
    }
    return best.isEmpty() ? firstQuantized : best;
}

const qs::LinearRecord* largestErrorLinear(const qs::ExperimentRecord& experiment)
{
    // Output SQNR is relative, so linears of different scales compare.
    const qs::LinearRecord* worst = nullptr;
    for (const auto& linear : experiment.linears)
        if (!linear.method.empty() && std::isfinite(linear.output_sqnr_db) &&
            (!worst || linear.output_sqnr_db < worst->output_sqnr_db))
            worst = &linear;
    return worst;
}

void MainWindow::selectDefaults()
{
    if (m_session->selectedExperiment().isEmpty()) {
        const QString best = bestExperimentId(m_session->data());
        if (!best.isEmpty()) m_session->selectExperiment(best);
    }
    const qs::ExperimentRecord* experiment = m_session->currentExperiment();
    if (m_session->selectedLayer() >= 0 || !experiment) return;
    if (const qs::LinearRecord* worst = largestErrorLinear(*experiment))
        m_session->selectLinear(worst->layer, QString::fromStdString(worst->module));
}

}  // namespace qs::gui
