// What every plot view offers the figure exporter (widgets/figure_export.h) and the
// `quantscope --export-figures` mode: its QCustomPlot, a file stem, the data behind the plot as
// CSV, and a way to restyle itself for print (fonts, palette, line widths) and back for screen.
#pragma once

#include <QString>

class QCustomPlot;

namespace qs::gui {

// Size presets follow journal column widths: one column 89 mm, two columns 183 mm.
struct FigureStyle {
    QString preset = QStringLiteral("screen");  // "screen", "one-column", "two-column"
    double widthMm = 0;                         // 0: the widget's own size (screen)
    double heightMm = 0;
    QString fontFamily = QStringLiteral("DejaVu Sans");
    double fontPointSize = 9;
    int dpi = 300;  // PNG only; PDF and SVG are vector

    // Throws nothing: an unknown name gives the screen preset (callers validate names with
    // presetNames()).
    static FigureStyle fromPreset(const QString& name);
    static QStringList presetNames();
};

class FigureView {
public:
    virtual ~FigureView() = default;
    virtual QCustomPlot* figurePlot() const = 0;
    // File stem of the exported figure, e.g. "pareto" or "gptq-column-error-L3-q_proj".
    virtual QString figureName() const = 0;
    // The data behind the plot: a header line, then one row per plotted point.
    virtual QString figureCsv() const = 0;
    // Fonts and line widths for `style`; the screen preset restores the on-screen look.
    virtual void applyFigureStyle(const FigureStyle& style) = 0;
    // False while the view has nothing to plot (no session, no selection).
    virtual bool hasFigure() const = 0;
};

}  // namespace qs::gui
