#include "widgets/tensor_inspector.h"

#include <cmath>

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "widgets/inspector_plots.h"
#include "widgets/number_format.h"

namespace qs::gui {
namespace {

QLabel* makeSelectableLabel(QWidget* parent)
{
    auto* label = new QLabel(parent);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);  // tensor names and error messages are not HTML
    return label;
}

QString kurtosisLine(double pearson)
{
    // Both conventions are spelled out: papers quote either, and 0 vs 3 for "normal" is the
    // usual source of misread numbers.
    if (std::isnan(pearson))
        return QStringLiteral("kurtosis (Pearson, normal = 3): n/a (constant tensor)");
    return QStringLiteral("kurtosis (Pearson, normal = 3): %1 | excess: %2")
        .arg(pearson, 0, 'f', 2)
        .arg(pearson - 3.0, 0, 'f', 2);
}

}  // namespace

TensorInspector::TensorInspector(QWidget* parent) : QWidget(parent)
{
    m_title = makeSelectableLabel(this);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.25);
    m_title->setFont(titleFont);
    m_details = makeSelectableLabel(this);
    m_kurtosis = makeSelectableLabel(this);

    m_histogram = makeInspectorPlot(this, tr("weight value"), tr("count (log scale)"), true);
    m_outChannels = makeInspectorPlot(this, tr("output channel (row of W)"), tr("max |w|"), false);
    m_inChannels = makeInspectorPlot(this, tr("input channel (column of W)"), tr("max |w|"), false);

    auto* channels = new QHBoxLayout;
    channels->addWidget(m_outChannels);
    channels->addWidget(m_inChannels);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addWidget(m_details);
    layout->addWidget(m_kurtosis);
    layout->addWidget(m_histogram, 1);
    layout->addLayout(channels, 1);
    clear();
}

void TensorInspector::setHeader(const QString& title, const QString& details)
{
    m_title->setText(title);
    m_details->setText(details);
}

void TensorInspector::clear()
{
    m_tensorName.clear();
    setHeader(tr("No tensor selected"), tr("Select a linear module in the model tree."));
    m_kurtosis->clear();
    for (QCustomPlot* plot : {m_histogram, m_outChannels, m_inChannels}) {
        clearPlot(plot);
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
    setPlotTitle(m_histogram, tr("Value histogram"));
    setPlotTitle(m_outChannels, tr("Per-output-channel absmax"));
    setPlotTitle(m_inChannels, tr("Per-input-channel absmax"));
}

void TensorInspector::showPending(const QString& tensorName, const QString& shapeText,
                                  const QString& dtype)
{
    clear();
    m_tensorName = tensorName;
    m_shapeText = shapeText;
    m_dtype = dtype;
    setHeader(tensorName, tr("shape %1 · %2 · computing statistics…").arg(shapeText, dtype));
}

void TensorInspector::showStats(const qs::WeightStats& stats)
{
    const QString name = QString::fromStdString(stats.tensor_name);
    if (name != m_tensorName) {
        // Stats arriving without showPending (e.g. from a caller other than the main window).
        m_tensorName = name;
        m_shapeText = formatShape(stats.rows, stats.cols, stats.cols == 1);
        m_dtype.clear();
    }
    const QLocale locale;
    QString details = tr("shape %1").arg(m_shapeText);
    if (!m_dtype.isEmpty()) details += QStringLiteral(" · ") + m_dtype;
    details += tr(" · %1 values · min %2 · max %3 · mean %4 · std %5 · absmax %6")
                   .arg(locale.toString(static_cast<qlonglong>(stats.rows * stats.cols)),
                        formatValue(stats.min), formatValue(stats.max), formatValue(stats.mean),
                        formatValue(stats.std), formatValue(stats.absmax));
    setHeader(name, details);
    m_kurtosis->setText(kurtosisLine(stats.kurtosis_pearson));

    plotHistogram(m_histogram, stats.histogram);
    plotChannelAbsmax(m_outChannels, stats.out_channel_absmax);
    plotChannelAbsmax(m_inChannels, stats.in_channel_absmax);
    setPlotTitle(m_histogram, tr("Value histogram (%1 bins)").arg(stats.histogram.counts.size()));
    setPlotTitle(m_outChannels, tr("Per-output-channel absmax (%1 rows)").arg(stats.rows));
    setPlotTitle(m_inChannels, tr("Per-input-channel absmax (%1 columns)").arg(stats.cols));
    for (QCustomPlot* plot : {m_histogram, m_outChannels, m_inChannels})
        plot->replot();
    emit statsShown(name);
}

void TensorInspector::showError(const QString& tensorName, const QString& message)
{
    clear();
    m_tensorName = tensorName;
    setHeader(tensorName, tr("Could not compute statistics: %1").arg(message));
}

QString TensorInspector::headerText() const
{
    return m_title->text() + QLatin1Char('\n') + m_details->text() + QLatin1Char('\n') +
           m_kurtosis->text();
}

QString TensorInspector::kurtosisText() const
{
    return m_kurtosis->text();
}

}  // namespace qs::gui
