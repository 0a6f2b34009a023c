#include "widgets/figure_export.h"

#include <QDir>
#include <QImage>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <qcustomplot.h>

#include "core/util/error.h"
#include "widgets/figure_style.h"

namespace qs::gui {
namespace {

// A plot that was never laid out (hidden, e.g. in --export-figures) is exported at this size
// with the screen preset.
const QSize k_fallbackScreenSize(800, 520);

[[noreturn]] void fail(const QString& path, const QString& problem)
{
    qs::fail_file(path.toStdString(), problem.toStdString());
}

void openForWriting(QSaveFile& file)
{
    if (!file.open(QIODevice::WriteOnly))
        fail(file.fileName(), QStringLiteral("cannot write (%1)").arg(file.errorString()));
}

void commit(QSaveFile& file)
{
    if (!file.commit())
        fail(file.fileName(), QStringLiteral("cannot write (%1)").arg(file.errorString()));
}

void beginPainter(QCPPainter& painter, QPaintDevice* device, const QString& path)
{
    if (!painter.begin(device)) fail(path, QStringLiteral("cannot start painting"));
}

// Restores the on-screen look when the export ends, also when it throws.
class ScreenStyleGuard {
public:
    ScreenStyleGuard(FigureView& view) : m_view(view) {}
    ~ScreenStyleGuard()
    {
        m_view.applyFigureStyle(FigureStyle::fromPreset(QStringLiteral("screen")));
        if (QCustomPlot* plot = m_view.figurePlot()) plot->replot(QCustomPlot::rpQueuedReplot);
    }
    ScreenStyleGuard(const ScreenStyleGuard&) = delete;
    ScreenStyleGuard& operator=(const ScreenStyleGuard&) = delete;

private:
    FigureView& m_view;
};

}  // namespace

QStringList figureFormats()
{
    return {QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("png"),
            QStringLiteral("csv")};
}

QSizeF figureSizeMm(const FigureStyle& style, const QCustomPlot* plot)
{
    if (style.widthMm > 0) {
        const double height = style.heightMm > 0 ? style.heightMm : style.widthMm * 2 / 3;
        return {style.widthMm, height};
    }
    QSize pixels = plot ? plot->size() : QSize();
    if (pixels.width() < 200 || pixels.height() < 150) pixels = k_fallbackScreenSize;
    const double mmPerPixel = 25.4 / layoutDpi();
    return {pixels.width() * mmPerPixel, pixels.height() * mmPerPixel};
}

void writePlotPdf(QCustomPlot* plot, const QString& path, QSizeF sizeMm, const QString& title)
{
    QSaveFile file(path);
    openForWriting(file);
    {
        QPdfWriter writer(&file);
        writer.setResolution(layoutDpi());
        writer.setTitle(title);
        writer.setCreator(QStringLiteral("QuantScope " QS_VERSION));
        const QPageSize page(sizeMm, QPageSize::Millimeter, QString(), QPageSize::ExactMatch);
        if (!writer.setPageLayout(QPageLayout(page, QPageLayout::Portrait, QMarginsF())))
            fail(path, QStringLiteral("cannot set a %1 x %2 mm page")
                           .arg(sizeMm.width())
                           .arg(sizeMm.height()));
        QCPPainter painter;
        beginPainter(painter, &writer, path);
        painter.setMode(QCPPainter::pmVectorized);
        plot->toPainter(&painter, writer.width(), writer.height());
        painter.end();
    }
    commit(file);
}

void writePlotSvg(QCustomPlot* plot, const QString& path, QSizeF sizeMm, const QString& title,
                  const QString& description)
{
    QSaveFile file(path);
    openForWriting(file);
    const QSize pixels = figurePixelSize(sizeMm.width(), sizeMm.height());
    {
        QSvgGenerator generator;
        generator.setOutputDevice(&file);
        generator.setResolution(layoutDpi());  // the root's width and height come out in mm
        generator.setSize(pixels);
        generator.setViewBox(QRect(QPoint(0, 0), pixels));
        generator.setTitle(title);
        generator.setDescription(description);
        QCPPainter painter;
        beginPainter(painter, &generator, path);
        painter.setMode(QCPPainter::pmVectorized);
        plot->toPainter(&painter, pixels.width(), pixels.height());
        painter.end();
    }
    commit(file);
}

void writePlotPng(QCustomPlot* plot, const QString& path, QSizeF sizeMm, int dpi)
{
    if (dpi < 10 || dpi > 4800) fail(path, QStringLiteral("DPI %1 is out of range").arg(dpi));
    const QSize logical = figurePixelSize(sizeMm.width(), sizeMm.height());
    const QSize device(qRound(sizeMm.width() / 25.4 * dpi), qRound(sizeMm.height() / 25.4 * dpi));
    QImage image(device, QImage::Format_RGB32);
    if (image.isNull())
        fail(path, QStringLiteral("cannot allocate a %1 x %2 image")
                       .arg(device.width())
                       .arg(device.height()));
    image.fill(Qt::white);
    // Fonts resolve at the image's DPI: keep it at the layout DPI while painting so text is
    // drawn at the size QCustomPlot measured, and scale the painter to the requested DPI.
    const int layoutDotsPerMeter = qRound(layoutDpi() / 0.0254);
    image.setDotsPerMeterX(layoutDotsPerMeter);
    image.setDotsPerMeterY(layoutDotsPerMeter);
    {
        QCPPainter painter;
        beginPainter(painter, &image, path);
        painter.scale(double(device.width()) / logical.width(),
                      double(device.height()) / logical.height());
        plot->toPainter(&painter, logical.width(), logical.height());
        painter.end();
    }
    const int dotsPerMeter = qRound(dpi / 0.0254);
    image.setDotsPerMeterX(dotsPerMeter);
    image.setDotsPerMeterY(dotsPerMeter);

    QSaveFile file(path);
    openForWriting(file);
    if (!image.save(&file, "PNG")) fail(path, QStringLiteral("cannot encode the PNG"));
    commit(file);
}

void writeTextFile(const QString& path, const QString& text)
{
    QSaveFile file(path);
    openForWriting(file);
    const QByteArray bytes = text.toUtf8();
    if (file.write(bytes) != bytes.size())
        fail(path, QStringLiteral("cannot write (%1)").arg(file.errorString()));
    commit(file);
}

QStringList exportFigure(FigureView& view, const FigureExportOptions& options)
{
    const QStringList known = figureFormats();
    for (const QString& format : options.formats)
        if (!known.contains(format))
            fail(format, QStringLiteral("unknown figure format (known: %1)").arg(known.join(", ")));
    QCustomPlot* plot = view.figurePlot();
    const QString stem = options.stem.isEmpty() ? view.figureName() : options.stem;
    if (!plot || !view.hasFigure()) fail(stem, QStringLiteral("the view has nothing to plot"));
    const QString outDir = options.outDir.isEmpty() ? QStringLiteral(".") : options.outDir;
    if (!QDir().mkpath(outDir)) fail(outDir, QStringLiteral("cannot create the folder"));

    const QSizeF sizeMm = figureSizeMm(options.style, plot);
    const QString description =
        QStringLiteral("QuantScope figure %1, %2 preset, %3 x %4 mm, %5 %6 pt")
            .arg(stem, options.style.preset)
            .arg(sizeMm.width(), 0, 'f', 1)
            .arg(sizeMm.height(), 0, 'f', 1)
            .arg(options.style.fontFamily)
            .arg(options.style.fontPointSize);

    ScreenStyleGuard guard(view);
    view.applyFigureStyle(options.style);
    const QDir dir(outDir);
    QStringList written;
    for (const QString& format : options.formats) {
        const QString path = dir.filePath(stem + QLatin1Char('.') + format);
        if (format == QLatin1String("pdf"))
            writePlotPdf(plot, path, sizeMm, stem);
        else if (format == QLatin1String("svg"))
            writePlotSvg(plot, path, sizeMm, stem, description);
        else if (format == QLatin1String("png"))
            writePlotPng(plot, path, sizeMm, options.style.dpi);
        else
            writeTextFile(path, view.figureCsv());
        written << path;
    }
    return written;
}

}  // namespace qs::gui
