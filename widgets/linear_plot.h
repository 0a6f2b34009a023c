// QCustomPlot set-up shared by the linear views (histogram, channel absmax, GPTQ column error):
// a bold title row above the axis rect, log axes with powers-of-ten ticks, and the fonts of a
// FigureStyle, so the four plots of the layer inspector look alike on screen and in print.
#pragma once

#include <QString>

class QCPAxis;
class QCustomPlot;
class QWidget;

namespace qs::gui {

struct FigureStyle;

// Plot with an (initially empty) title element in row 0 and the legend off.
QCustomPlot* makeLinearPlot(QWidget* parent);
void setLinearPlotTitle(QCustomPlot* plot, const QString& title);
QString linearPlotTitle(const QCustomPlot* plot);

// Logarithmic scale with ticks at powers of ten ("1", "10", "10^3" as 1e3) and a sub grid.
void setLogScale(QCPAxis* axis);

// Fonts of axes, ticks, title, legend and items for `style`; the screen preset restores the
// widget's own font (the size the user's desktop asks for).
void applyLinearPlotStyle(QCustomPlot* plot, const FigureStyle& style);

// One CSV field: quoted when it holds a comma, quote or line break.
QString csvField(const QString& text);

}  // namespace qs::gui
