#include "widgets/linear_plot.h"

#include <qcustomplot.h>

#include "widgets/figure_style.h"

namespace qs::gui {
namespace {

QCPTextElement* titleOf(const QCustomPlot* plot)
{
    auto* layout = const_cast<QCustomPlot*>(plot)->plotLayout();
    return layout->elementCount() > 0 ? qobject_cast<QCPTextElement*>(layout->element(0, 0))
                                      : nullptr;
}

}  // namespace

QCustomPlot* makeLinearPlot(QWidget* parent)
{
    auto* plot = new QCustomPlot(parent);
    plot->setMinimumSize(260, 200);
    plot->setNoAntialiasingOnDrag(true);
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->plotLayout()->insertRow(0);
    QFont titleFont = plot->font();
    titleFont.setBold(true);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, QString(), titleFont));
    plot->legend->setVisible(false);
    return plot;
}

void setLinearPlotTitle(QCustomPlot* plot, const QString& title)
{
    if (auto* element = titleOf(plot)) element->setText(title);
}

QString linearPlotTitle(const QCustomPlot* plot)
{
    const auto* element = titleOf(plot);
    return element ? element->text() : QString();
}

void setLogScale(QCPAxis* axis)
{
    axis->setScaleType(QCPAxis::stLogarithmic);
    auto ticker = QSharedPointer<QCPAxisTickerLog>::create();
    ticker->setLogBase(10);
    ticker->setSubTickCount(8);
    axis->setTicker(ticker);
    // "gb": 1, 10, 100, then 10^3 written as a power, which stays readable at small sizes.
    axis->setNumberFormat(QStringLiteral("gb"));
    axis->setNumberPrecision(0);
    axis->grid()->setSubGridVisible(true);
}

void applyLinearPlotStyle(QCustomPlot* plot, const FigureStyle& style)
{
    applyPlotStyle(plot, style);
    if (auto* title = titleOf(plot)) {
        title->setFont(figureFont(style, 1.0, /*bold=*/true));
        title->setTextColor(Qt::black);
    }
    const QFont small = figureFont(style, 0.85);
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i))) text->setFont(small);
}

QString csvField(const QString& text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
        !text.contains(QLatin1Char('\n')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

}  // namespace qs::gui
