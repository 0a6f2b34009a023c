// QCustomPlot set-up and filling for the tensor inspector, kept apart from its layout code.
// Each plot owns one QCPBars (plottable 0) and a title element; data come as plain vectors.
#pragma once

#include <vector>

#include <QString>

#include "core/analysis/weight_stats.h"

class QCustomPlot;
class QWidget;

namespace qs::gui {

// A plot with a title row, labelled axes and one bar plottable. logY: logarithmic value axis
// with powers-of-ten ticks.
QCustomPlot* makeInspectorPlot(QWidget* parent, const QString& xLabel, const QString& yLabel,
                               bool logY);
void setPlotTitle(QCustomPlot* plot, const QString& title);

// Bars over the histogram bins. Empty bins are left out: a log axis has no place for zero.
void plotHistogram(QCustomPlot* plot, const qs::Histogram& histogram);
// One bar per channel (x = channel index) and a dashed line at the median, the reference an
// outlier channel is judged against.
void plotChannelAbsmax(QCustomPlot* plot, const std::vector<float>& absmax);
void clearPlot(QCustomPlot* plot);

// Points in the bar plottable, for tests and the screenshot check.
int plottedPointCount(const QCustomPlot* plot);

}  // namespace qs::gui
