// Figure presets (sizes in millimetres, fonts in points) and the one place that turns a
// FigureStyle into QCustomPlot fonts, pens and margins, so every model-wide view looks the same
// on screen and in print. FigureStyle itself is declared in widgets/figure_view.h.
//
// Units: QCustomPlot lays text out with QFontMetrics of the font alone, which measures at the
// application's font DPI (layoutDpi()). The exporter (widgets/figure_export.h) therefore paints
// in logical pixels of layoutDpi() per inch, so "1 pt" is pointsToPixels(1) logical pixels both
// on screen and on the page, and measured text equals drawn text (no clipped labels).
#pragma once

#include <QColor>
#include <QFont>
#include <QString>
#include <QVector>

#include "widgets/figure_view.h"

class QCPAxis;
class QCPLegend;
class QCustomPlot;
class QWidget;

namespace qs::gui {

// Okabe & Ito's colour-blind-safe palette, in their order: black, orange, sky blue, bluish
// green, yellow, blue, vermillion, reddish purple. Index with PaletteColor.
const QVector<QColor>& okabeIto();
enum class PaletteColor { Black, Orange, SkyBlue, Green, Yellow, Blue, Vermillion, Purple };
QColor paletteColor(PaletteColor color);
// The i-th colour for a categorical series, skipping black and yellow (black marks the
// frontier and selections; yellow is too light for points and thin lines on white).
QColor seriesColor(int index);

// The DPI QFontMetrics uses for a font without a paint device (Qt's qt_defaultDpiY()).
int layoutDpi();
// Points to logical pixels at layoutDpi(): a length that is `points` long on paper.
double pointsToPixels(double points);
// A figure's size in logical pixels at layoutDpi().
QSize figurePixelSize(double widthMm, double heightMm);

// Logarithmic scale for an axis that spans about a decade or less (perplexity): ticks at 1,
// 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k, where QCPAxisTickerLog would label one power of ten.
void setNarrowLogScale(QCPAxis* axis);

bool isPrintStyle(const FigureStyle& style);
// The style's font at `scale` x its point size (never below 7 pt in print, where smaller text
// is unreadable).
QFont figureFont(const FigureStyle& style, double scale = 1.0, bool bold = false);

// Stroke widths in points, the same physical width on screen and paper.
struct FigureStrokes {
    static constexpr double axis = 0.6;
    static constexpr double grid = 0.4;
    static constexpr double data = 1.2;
    static constexpr double emphasis = 1.6;  // selected series and highlight rings
    static constexpr double marker = 5.0;    // scatter marker diameter
};
QPen figurePen(const QColor& color, double points, Qt::PenStyle style = Qt::SolidLine);

// Axis line, tick and label fonts and pens, and the grid (light grey, solid, no sub grid unless
// the axis is logarithmic).
void styleFigureAxis(QCPAxis* axis, const FigureStyle& style);
void styleFigureLegend(QCPLegend* legend, const FigureStyle& style);
// Moves the legend out of the axis rect into a row of its own above the plot (it then never
// hides data or labels), entries filled left to right.
void placeLegendAbove(QCustomPlot* plot);
// As many legend columns as fit `width` pixels (call after the legend's font is set).
void fitLegendColumns(QCPLegend* legend, int width);
// The width a figure is drawn at: the preset's for print, else the widget's.
int figureWidthPixels(const FigureStyle& style, const QWidget* widget);
// Every axis of every axis rect, the legend, and a margin on the right and top of each axis
// rect wide enough for the last tick label, which QCustomPlot lets overhang the axis rect.
void applyPlotStyle(QCustomPlot* plot, const FigureStyle& style);

}  // namespace qs::gui
