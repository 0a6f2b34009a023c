#include "widgets/histogram_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QLabel>
#include <QTextDocument>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "widgets/figure_style.h"
#include "widgets/linear_plot.h"
#include "widgets/number_format.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

// Below the smallest possible count (1): bars of one element stay visible above the axis.
constexpr double k_logFloor = 0.5;
// Headroom above the tallest bin, in log space, keeps the legend clear of the curves.
constexpr double k_legendHeadroom = 40.0;

bool validBins(const qs::BinnedCounts& bins)
{
    return !bins.counts.empty() && bins.edges.size() == bins.counts.size() + 1;
}

}  // namespace

HistogramView::HistogramView(SessionModel* model, QWidget* parent) : QWidget(parent), m_model(model)
{
    m_header = new QLabel(this);
    m_header->setTextFormat(Qt::RichText);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // No word wrap: a wrapping label's height-for-width loses rows of the table in a grid.
    m_header->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    QFont small = m_header->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_header->setFont(small);

    m_plot = makeLinearPlot(this);
    setLogScale(m_plot->yAxis);
    m_plot->yAxis->setLabel(tr("count (log scale)"));
    m_plot->legend->setVisible(true);
    m_plot->legend->setBrush(QColor(255, 255, 255, 220));
    m_plot->legend->setRowSpacing(0);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_header);
    layout->addWidget(m_plot, 1);

    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(0);
    connect(&m_refreshTimer, &QTimer::timeout, this, &HistogramView::refresh);
    connect(m_model, &SessionModel::dataReset, this, &HistogramView::scheduleRefresh);
    connect(m_model, &SessionModel::experimentsChanged, this, &HistogramView::scheduleRefresh);
    connect(m_model, &SessionModel::experimentSelected, this, &HistogramView::scheduleRefresh);
    connect(m_model, &SessionModel::linearSelected, this, &HistogramView::scheduleRefresh);
    updateLabels();
    refresh();
}

void HistogramView::setTensorKind(TensorKind kind)
{
    if (kind == m_kind) return;
    m_kind = kind;
    refresh();
}

void HistogramView::setBinning(Binning binning)
{
    if (binning == m_binning) return;
    m_binning = binning;
    refresh();
}

void HistogramView::scheduleRefresh()
{
    m_refreshTimer.start();
}

void HistogramView::refresh()
{
    m_refreshTimer.stop();
    m_layer = m_model->selectedLayer();
    m_module = m_model->selectedModule();
    m_stages.clear();
    for (const auto& [stage, stats] : linearStages(*m_model, m_layer, m_module, m_kind)) {
        const auto& bins = m_binning == Binning::Linear ? stats->histogram : stats->log_histogram;
        if (!validBins(bins)) continue;
        m_stages.push_back({stage, bins, stats->kurtosis_excess(), stats->absmax,
                            static_cast<int>(stats->outlier_channels.size()), stats->outlier_k,
                            stats->zeros});
    }
    updateLabels();
    plotStages();
    updateHeader();
    applyLinearPlotStyle(m_plot, m_style);
    m_plot->replot();
}

void HistogramView::updateLabels()
{
    const bool weights = m_kind == TensorKind::Weights;
    const QString what = weights ? tr("weight") : tr("activation");
    m_plot->xAxis->setLabel(m_binning == Binning::Linear ? tr("%1 value").arg(what)
                                                         : tr("log10 |%1|").arg(what));
    QString title = weights ? tr("Weight histogram") : tr("Activation histogram");
    if (m_layer >= 0 && !m_module.isEmpty())
        title += QStringLiteral(" · ") + linearShortName(m_layer, m_module);
    setLinearPlotTitle(m_plot, title);
}

void HistogramView::plotStages()
{
    m_plot->clearGraphs();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, peak = 1;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const Plotted& p : m_stages) {
        // Outline of each run of non-empty bins, from the floor up and back down, so a
        // single bin (the spikes of a quantized tensor) still reads as a bar. Empty bins
        // between runs are a NaN gap: a log axis has no place for zero.
        QVector<double> keys, values;
        const std::size_t bins = p.bins.counts.size();
        for (std::size_t i = 0; i < bins; ++i) {
            const double count = p.bins.counts[i];
            if (!(count > 0)) continue;
            const double left = p.bins.edges[i], right = p.bins.edges[i + 1];
            const bool runStarts = i == 0 || !(p.bins.counts[i - 1] > 0);
            const bool runEnds = i + 1 == bins || !(p.bins.counts[i + 1] > 0);
            if (runStarts) {
                if (!keys.isEmpty()) {
                    keys << 0.5 * (keys.back() + left);
                    values << nan;
                }
                keys << left;
                values << k_logFloor;
            }
            keys << left << right;
            values << count << count;
            if (runEnds) {
                keys << right;
                values << k_logFloor;
            }
            peak = std::max(peak, count);
        }
        lo = std::min(lo, p.bins.edges.front());
        hi = std::max(hi, p.bins.edges.back());

        QCPGraph* graph = m_plot->addGraph();
        graph->setLineStyle(QCPGraph::lsLine);
        // The baseline a little wider: where a stage leaves the shape unchanged it covers the
        // baseline, which still shows at both sides.
        graph->setPen(figurePen(stageColor(p.stage), p.stage == QLatin1String("original")
                                                         ? FigureStrokes::emphasis
                                                         : FigureStrokes::data));
        graph->setName(p.stage);
        graph->setData(keys, values, /*alreadySorted=*/true);
    }
    if (m_stages.empty()) {
        m_plot->xAxis->setRange(0, 1);
        m_plot->yAxis->setRange(1, 10);
        return;
    }
    const double margin = 0.02 * (hi - lo);
    m_plot->xAxis->setRange(lo - margin, hi + margin);
    m_plot->yAxis->setRange(k_logFloor, peak * k_legendHeadroom);

    // The legend goes into the upper corner over the half with fewer tall bins: log10 |x|
    // histograms pile up on the right, value histograms are roughly symmetric.
    const double mid = 0.5 * (lo + hi);
    double left = 0, right = 0;
    for (const Plotted& p : m_stages) {
        for (std::size_t i = 0; i < p.bins.counts.size(); ++i) {
            if (p.bins.counts[i] < peak / 100) continue;
            const double centre = 0.5 * (p.bins.edges[i] + p.bins.edges[i + 1]);
            (centre < mid ? left : right) += std::log10(p.bins.counts[i]);
        }
    }
    m_plot->axisRect()->insetLayout()->setInsetAlignment(
        0, Qt::AlignTop | (right > left ? Qt::AlignLeft : Qt::AlignRight));
}

void HistogramView::updateHeader()
{
    if (m_stages.empty()) {
        const QString why = m_layer < 0 ? tr("Select a linear module to see its histogram.")
                                        : tr("No %1 statistics for L%2 %3 in this session.")
                                              .arg(kindName(m_kind))
                                              .arg(m_layer)
                                              .arg(m_module);
        m_header->setText(why.toHtmlEscaped());
        return;
    }
    const bool log = m_binning == Binning::Log10Abs;
    QString html = QStringLiteral(
                       "<table cellspacing='0' cellpadding='1'><tr>"
                       "<th align='left'>%1</th><th align='right'>&nbsp;%2</th>"
                       "<th align='right'>&nbsp;%3</th><th align='right'>&nbsp;%4</th>")
                       .arg(tr("stage"), tr("excess kurtosis"), tr("absmax"),
                            tr("outlier ch. (>%1x median)").arg(m_stages.front().outlierK));
    if (log) html += QStringLiteral("<th align='right'>&nbsp;%1</th>").arg(tr("zeros"));
    html += QStringLiteral("</tr>");
    for (const Plotted& p : m_stages) {
        html += QStringLiteral(
                    "<tr><td><span style='color:%1'>&#9632;</span>&nbsp;%2</td>"
                    "<td align='right'>%3</td><td align='right'>%4</td>"
                    "<td align='right'>%5</td>")
                    .arg(stageColor(p.stage).name(), p.stage, formatValue(p.kurtosisExcess),
                         formatValue(p.absmax))
                    .arg(p.outlierChannels);
        if (log) html += QStringLiteral("<td align='right'>%1</td>").arg(p.zeros);
        html += QStringLiteral("</tr>");
    }
    html += QStringLiteral("</table>");
    m_header->setText(html);
}

double HistogramView::floorCount()
{
    return k_logFloor;
}

QStringList HistogramView::plottedStages() const
{
    QStringList stages;
    for (const Plotted& p : m_stages)
        stages << p.stage;
    return stages;
}

QCPGraph* HistogramView::stageGraph(const QString& stage) const
{
    const int index = static_cast<int>(plottedStages().indexOf(stage));
    return index >= 0 && index < m_plot->graphCount() ? m_plot->graph(index) : nullptr;
}

QString HistogramView::headerText() const
{
    QTextDocument doc;
    doc.setHtml(m_header->text());
    return doc.toPlainText();
}

QString HistogramView::figureName() const
{
    QString name = QStringLiteral("histogram-%1").arg(kindName(m_kind));
    if (m_binning == Binning::Log10Abs) name += QStringLiteral("-log10");
    if (m_layer >= 0) name += QLatin1Char('-') + linearFigureSuffix(m_layer, m_module);
    return name;
}

QString HistogramView::figureCsv() const
{
    QString csv = QStringLiteral("stage,bin_left,bin_right,count\n");
    for (const Plotted& p : m_stages) {
        for (std::size_t i = 0; i < p.bins.counts.size(); ++i) {
            csv += QStringLiteral("%1,%2,%3,%4\n")
                       .arg(csvField(p.stage))
                       .arg(p.bins.edges[i], 0, 'g', 9)
                       .arg(p.bins.edges[i + 1], 0, 'g', 9)
                       .arg(p.bins.counts[i], 0, 'g', 15);
        }
    }
    return csv;
}

void HistogramView::applyFigureStyle(const FigureStyle& style)
{
    m_style = style;
    applyLinearPlotStyle(m_plot, m_style);
    m_plot->replot();
}

}  // namespace qs::gui
