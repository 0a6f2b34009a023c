#include "widgets/inspector_plots.h"

#include <algorithm>
#include <cmath>

#include <qcustomplot.h>

#include "widgets/linear_plot.h"

namespace qs::gui {
namespace {

const QColor k_barColor(52, 101, 164);
const QColor k_medianColor(204, 0, 0);

// QCustomPlot's accessors are not const-qualified, hence the non-const plot everywhere.
QCPBars* barsOf(QCustomPlot* plot)
{
    return plot->plottableCount() > 0 ? qobject_cast<QCPBars*>(plot->plottable(0)) : nullptr;
}

// The median line and its label are items; they are rebuilt on every fill.
void clearItems(QCustomPlot* plot)
{
    plot->clearItems();
}

double median(std::vector<float> values)
{
    if (values.empty()) return 0.0;
    auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    return *middle;
}

}  // namespace

QCustomPlot* makeInspectorPlot(QWidget* parent, const QString& xLabel, const QString& yLabel,
                               bool logY)
{
    auto* plot = makeLinearPlot(parent);  // title row, drag and zoom
    plot->setMinimumSize(240, 180);
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(yLabel);
    if (logY) {
        setLogScale(plot->yAxis);
        plot->yAxis->setNumberFormat("gb");
        plot->yAxis->setNumberPrecision(0);
    }
    plot->yAxis->grid()->setSubGridVisible(logY);

    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    // An outline in the fill colour: without it, unantialiased neighbours leave 1-px seams
    // and sub-pixel bars of wide layers vanish.
    bars->setPen(QPen(k_barColor, 0));
    bars->setBrush(k_barColor);
    bars->setAntialiased(false);
    return plot;
}

void setPlotTitle(QCustomPlot* plot, const QString& title)
{
    setLinearPlotTitle(plot, title);
}

void plotHistogram(QCustomPlot* plot, const qs::Histogram& histogram)
{
    QCPBars* bars = barsOf(plot);
    const std::size_t bins = histogram.counts.size();
    if (!bars || bins == 0 || histogram.edges.size() != bins + 1) {
        clearPlot(plot);
        return;
    }
    QVector<double> keys, values;
    double peak = 1.0;
    for (std::size_t i = 0; i < bins; ++i) {
        if (histogram.counts[i] <= 0) continue;
        keys.append(0.5 * (histogram.edges[i] + histogram.edges[i + 1]));
        values.append(histogram.counts[i]);
        peak = std::max(peak, histogram.counts[i]);
    }
    const double width = histogram.edges[1] - histogram.edges[0];
    bars->setWidth(width);
    // Start the bars at the bottom of the log range: base 0 has no coordinate on a log axis.
    bars->setBaseValue(0.5);
    bars->setData(keys, values, /*alreadySorted=*/true);

    const double margin = width;
    plot->xAxis->setRange(histogram.edges.front() - margin, histogram.edges.back() + margin);
    plot->yAxis->setRange(0.5, peak * 2.0);
    clearItems(plot);
}

void plotChannelAbsmax(QCustomPlot* plot, const std::vector<float>& absmax)
{
    QCPBars* bars = barsOf(plot);
    if (!bars || absmax.empty()) {
        clearPlot(plot);
        return;
    }
    QVector<double> keys(static_cast<int>(absmax.size())), values(keys.size());
    for (int i = 0; i < keys.size(); ++i) {
        keys[i] = i;
        values[i] = absmax[static_cast<std::size_t>(i)];
    }
    // Gaps between bars only while they are wide enough to see; dense plots read as an area.
    bars->setWidth(absmax.size() <= 256 ? 0.8 : 1.0);
    bars->setBaseValue(0.0);
    bars->setData(keys, values, /*alreadySorted=*/true);

    const double peak = *std::max_element(absmax.begin(), absmax.end());
    plot->xAxis->setRange(-0.5, static_cast<double>(absmax.size()) - 0.5);
    // Headroom above the tallest bar keeps the median label clear of the bars.
    plot->yAxis->setRange(0.0, peak > 0 ? peak * 1.15 : 1.0);

    clearItems(plot);
    const double mid = median(absmax);
    auto* line = new QCPItemStraightLine(plot);
    line->point1->setCoords(0, mid);
    line->point2->setCoords(1, mid);
    line->setPen(QPen(k_medianColor, 1.5, Qt::DashLine));
    auto* label = new QCPItemText(plot);
    label->position->setType(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(0.99, 0.01);
    label->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
    label->setText(QStringLiteral("median (dashed): %1").arg(mid, 0, 'g', 3));
    label->setColor(k_medianColor);
    label->setBrush(QColor(255, 255, 255, 200));
}

void clearPlot(QCustomPlot* plot)
{
    if (QCPBars* bars = barsOf(plot)) bars->data()->clear();
    clearItems(plot);
}

int plottedPointCount(const QCustomPlot* plot)
{
    const QCPBars* bars = barsOf(const_cast<QCustomPlot*>(plot));
    return bars ? bars->dataCount() : 0;
}

}  // namespace qs::gui
