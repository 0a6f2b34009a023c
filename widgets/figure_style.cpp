#include "widgets/figure_style.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

#include <QCoreApplication>
#include <QFontMetricsF>
#include <QGuiApplication>
#include <QScreen>
#include <QWidget>
#include <qcustomplot.h>

namespace qs::gui {
namespace {

const QColor k_gridColor(0xDD, 0xDD, 0xDD);
const QColor k_subGridColor(0xEE, 0xEE, 0xEE);
const QColor k_legendBorder(0xB0, 0xB0, 0xB0);

// Smallest text that stays readable on paper (journals ask for 6-7 pt at final size).
constexpr double k_minPrintPoints = 7.0;

class NarrowLogTicker : public QCPAxisTicker {
public:
    void generate(const QCPRange& range, const QLocale& locale, QChar, int, QVector<double>& ticks,
                  QVector<double>* subTicks, QVector<QString>* tickLabels) override
    {
        static const double mantissas[] = {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8};
        ticks.clear();
        if (range.lower > 0 && range.upper > range.lower) {
            const int first = int(std::floor(std::log10(range.lower)));
            const int last = int(std::ceil(std::log10(range.upper)));
            for (int exponent = first; exponent <= last; ++exponent)
                for (double mantissa : mantissas) {
                    const double tick = mantissa * std::pow(10.0, exponent);
                    if (tick >= range.lower && tick <= range.upper) ticks << tick;
                }
            while (ticks.size() > 7) {  // every other tick until they fit
                QVector<double> thinned;
                for (int i = 0; i < ticks.size(); i += 2)
                    thinned << ticks[i];
                ticks = thinned;
            }
        }
        if (subTicks) subTicks->clear();
        if (tickLabels) {
            tickLabels->clear();
            for (double tick : ticks)
                *tickLabels << locale.toString(tick, 'g', 4);
        }
    }
};

}  // namespace

FigureStyle FigureStyle::fromPreset(const QString& name)
{
    FigureStyle style;
    if (name == QLatin1String("one-column")) {
        style.preset = name;
        style.widthMm = 89;
        style.heightMm = 60;
        style.fontPointSize = 8;
    } else if (name == QLatin1String("two-column")) {
        style.preset = name;
        style.widthMm = 183;
        style.heightMm = 80;
        style.fontPointSize = 8;
    }
    return style;  // the screen preset: the widget's own size, 9 pt
}

QStringList FigureStyle::presetNames()
{
    return {QStringLiteral("screen"), QStringLiteral("one-column"), QStringLiteral("two-column")};
}

const QVector<QColor>& okabeIto()
{
    static const QVector<QColor> palette{QColor(0x00, 0x00, 0x00), QColor(0xE6, 0x9F, 0x00),
                                         QColor(0x56, 0xB4, 0xE9), QColor(0x00, 0x9E, 0x73),
                                         QColor(0xF0, 0xE4, 0x42), QColor(0x00, 0x72, 0xB2),
                                         QColor(0xD5, 0x5E, 0x00), QColor(0xCC, 0x79, 0xA7)};
    return palette;
}

QColor paletteColor(PaletteColor color)
{
    return okabeIto().at(static_cast<int>(color));
}

QColor seriesColor(int index)
{
    static const PaletteColor order[] = {PaletteColor::Blue,   PaletteColor::Orange,
                                         PaletteColor::Green,  PaletteColor::Vermillion,
                                         PaletteColor::Purple, PaletteColor::SkyBlue};
    constexpr int count = static_cast<int>(std::size(order));
    return paletteColor(order[((index % count) + count) % count]);
}

int layoutDpi()
{
    // Mirrors qt_defaultDpiY(), which QFont uses when it is measured without a paint device.
    if (QCoreApplication::testAttribute(Qt::AA_Use96Dpi)) return 96;
    if (const QScreen* screen = QGuiApplication::primaryScreen())
        return qRound(screen->logicalDotsPerInchY());
    return 100;
}

double pointsToPixels(double points)
{
    return points * layoutDpi() / 72.0;
}

QSize figurePixelSize(double widthMm, double heightMm)
{
    const double perMm = layoutDpi() / 25.4;
    return {qRound(widthMm * perMm), qRound(heightMm * perMm)};
}

void setNarrowLogScale(QCPAxis* axis)
{
    axis->setScaleType(QCPAxis::stLogarithmic);
    axis->setTicker(QSharedPointer<NarrowLogTicker>::create());
}

bool isPrintStyle(const FigureStyle& style)
{
    return style.preset != QLatin1String("screen");
}

QFont figureFont(const FigureStyle& style, double scale, bool bold)
{
    QFont font(style.fontFamily);
    const bool print = isPrintStyle(style);
    font.setPointSizeF(std::max(print ? k_minPrintPoints : 6.0, style.fontPointSize * scale));
    font.setBold(bold);
    // Unhinted metrics scale linearly, so text measured at the layout DPI has the same width
    // in the PDF, the SVG and a PNG rendered at any DPI.
    if (print) font.setHintingPreference(QFont::PreferNoHinting);
    return font;
}

QPen figurePen(const QColor& color, double points, Qt::PenStyle style)
{
    QPen pen(color, pointsToPixels(points), style);
    if (style != Qt::SolidLine) pen.setCapStyle(Qt::FlatCap);
    return pen;
}

void styleFigureAxis(QCPAxis* axis, const FigureStyle& style)
{
    axis->setLabelFont(figureFont(style));
    axis->setTickLabelFont(figureFont(style, 0.9));
    axis->setLabelColor(Qt::black);
    axis->setTickLabelColor(Qt::black);
    const QPen pen = figurePen(Qt::black, FigureStrokes::axis);
    axis->setBasePen(pen);
    axis->setTickPen(pen);
    axis->setSubTickPen(pen);
    // Ticks point outwards so they never hide data at the edge of the axis rect.
    axis->setTickLength(0, qRound(pointsToPixels(3)));
    axis->setSubTickLength(0, qRound(pointsToPixels(1.5)));
    axis->setTickLabelPadding(qRound(pointsToPixels(2)));
    axis->setLabelPadding(qRound(pointsToPixels(2.5)));
    axis->setPadding(qRound(pointsToPixels(2)));
    axis->grid()->setPen(figurePen(k_gridColor, FigureStrokes::grid));
    axis->grid()->setSubGridPen(figurePen(k_subGridColor, FigureStrokes::grid));
    axis->grid()->setZeroLinePen(Qt::NoPen);
    axis->grid()->setSubGridVisible(axis->scaleType() == QCPAxis::stLogarithmic);
}

void styleFigureLegend(QCPLegend* legend, const FigureStyle& style)
{
    const QFont font = figureFont(style, 0.9);
    const double lineHeight = QFontMetricsF(font).height();
    legend->setFont(font);
    legend->setTextColor(Qt::black);
    legend->setBorderPen(figurePen(k_legendBorder, FigureStrokes::grid));
    legend->setBrush(QColor(255, 255, 255, 230));
    legend->setIconSize(qRound(lineHeight * 1.6), qRound(lineHeight));
    legend->setIconTextPadding(qRound(pointsToPixels(2)));
    const int pad = qRound(pointsToPixels(2));
    legend->setMargins(QMargins(pad, pad / 2, pad, pad / 2));
    legend->setRowSpacing(0);
    legend->setColumnSpacing(qRound(pointsToPixels(5)));
    for (int i = 0; i < legend->itemCount(); ++i) {
        if (auto* item = legend->item(i)) {
            item->setFont(font);
            item->setTextColor(Qt::black);
        }
    }
}

void placeLegendAbove(QCustomPlot* plot)
{
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, plot->legend);  // takes it out of the inset layout
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot->legend->setVisible(true);
}

void fitLegendColumns(QCPLegend* legend, int width)
{
    // itemCount() counts the grid's cells, empty ones included.
    std::vector<int> widths;
    for (int i = 0; i < legend->itemCount(); ++i)
        if (QCPAbstractLegendItem* item = legend->item(i))
            widths.push_back(item->minimumOuterSizeHint().width());
    const int count = int(widths.size());
    if (count == 0) return;
    const int available = width - legend->margins().left() - legend->margins().right() - 4;
    int wrap = 1;
    for (int columns = count; columns > 1; --columns) {
        int total = legend->columnSpacing() * (columns - 1);
        for (int c = 0; c < columns; ++c) {
            int column = 0;
            for (int i = c; i < count; i += columns)
                column = std::max(column, widths[std::size_t(i)]);
            total += column;
        }
        if (total <= available) {
            wrap = columns;
            break;
        }
    }
    legend->setWrap(wrap);
    legend->setFillOrder(QCPLegend::foColumnsFirst, /*rearrange=*/true);
}

int figureWidthPixels(const FigureStyle& style, const QWidget* widget)
{
    if (isPrintStyle(style)) return figurePixelSize(style.widthMm, style.heightMm).width();
    return widget ? widget->width() : 0;
}

void applyPlotStyle(QCustomPlot* plot, const FigureStyle& style)
{
    plot->setBackground(Qt::white);
    const QFontMetricsF ticks(figureFont(style, 0.9));
    // Half of a typical tick label ("0.995", "1e+03") overhangs the last tick.
    const int right =
        qRound(ticks.horizontalAdvance(QStringLiteral("0.000")) / 2 + pointsToPixels(2));
    const int top = qRound(ticks.height() / 2 + 1);
    for (QCPAxisRect* rect : plot->axisRects()) {
        for (QCPAxis* axis : rect->axes())
            styleFigureAxis(axis, style);
        rect->setMinimumMargins(QMargins(0, top, right, 0));
    }
    styleFigureLegend(plot->legend, style);
}

}  // namespace qs::gui
