// Export of a FigureView (widgets/figure_view.h) at a physical size: PDF (vector, fonts
// embedded), SVG, PNG at a DPI, and the CSV of the data behind the plot. Used by the GUI's
// export action and by `quantscope --export-figures` (no window needed: works with
// QT_QPA_PLATFORM=offscreen).
//
// Every format is painted in logical pixels of layoutDpi() (widgets/figure_style.h) per inch,
// the resolution QCustomPlot measures text at: the PDF writer and the SVG generator get that
// resolution and a page of the preset's millimetres, the PNG painter is scaled from it to the
// requested DPI. (QCustomPlot::savePdf sizes the page in screen pixels instead.)
//
// Writes go through QSaveFile: a failed export leaves no partial file. Errors throw
// qs::QsError "<file or folder>: <problem>".
#pragma once

#include <QSizeF>
#include <QString>
#include <QStringList>

#include "widgets/figure_view.h"

class QCustomPlot;

namespace qs::gui {

struct FigureExportOptions {
    FigureStyle style = FigureStyle::fromPreset(QStringLiteral("one-column"));
    QStringList formats{QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("png"),
                        QStringLiteral("csv")};
    QString outDir;  // created when missing
    QString stem;    // file stem; empty: view.figureName()
};

// "pdf", "svg", "png", "csv".
QStringList figureFormats();

// Styles the view for options.style, writes <outDir>/<stem>.<format> for each format and
// restores the screen style (also on error). Returns the paths written, in format order.
// Throws QsError for an unknown format, a view without a figure, a folder that cannot be
// created or a file that cannot be written.
QStringList exportFigure(FigureView& view, const FigureExportOptions& options);

// The figure's size for `style`: the preset's millimetres, or the plot's on-screen size
// converted at layoutDpi() for the screen preset.
QSizeF figureSizeMm(const FigureStyle& style, const QCustomPlot* plot);

// Single formats, for a plot already styled. `title` goes into the file's metadata.
void writePlotPdf(QCustomPlot* plot, const QString& path, QSizeF sizeMm, const QString& title);
void writePlotSvg(QCustomPlot* plot, const QString& path, QSizeF sizeMm, const QString& title,
                  const QString& description);
void writePlotPng(QCustomPlot* plot, const QString& path, QSizeF sizeMm, int dpi);
void writeTextFile(const QString& path, const QString& text);

}  // namespace qs::gui
