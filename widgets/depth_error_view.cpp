#include "widgets/depth_error_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QCheckBox>
#include <QHBoxLayout>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "widgets/figure_style.h"
#include "widgets/linear_plot.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

const QColor k_otherColor(0xC8, 0xC8, 0xC8);
constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

bool isQuantized(const qs::ExperimentRecord& e)
{
    return std::any_of(e.linears.begin(), e.linears.end(),
                       [](const qs::LinearRecord& l) { return !l.method.empty(); });
}

std::vector<double> perLayer(const std::vector<double>& values, int numLayers)
{
    std::vector<double> out(std::size_t(std::max(numLayers, 0)), k_nan);
    for (std::size_t i = 0; i < out.size() && i < values.size(); ++i)
        if (std::isfinite(values[i])) out[i] = values[i];
    return out;
}

QString csvNumber(double value)
{
    return std::isfinite(value) ? QString::number(value, 'g', 10) : QString();
}

// Range of the finite values with 8 % padding; `fallback` when there are none.
QCPRange finiteRange(const std::vector<const std::vector<double>*>& series, QCPRange fallback)
{
    double low = std::numeric_limits<double>::max(), high = -low;
    for (const auto* values : series)
        for (double v : *values)
            if (std::isfinite(v)) {
                low = std::min(low, v);
                high = std::max(high, v);
            }
    if (low > high) return fallback;
    const double pad = std::max((high - low) * 0.08, std::max(std::abs(high), 1e-6) * 1e-4);
    return {low - pad, high + pad};
}

QCPAxisRect* makeRect(QCustomPlot* plot, QCPMarginGroup* group)
{
    auto* rect = new QCPAxisRect(plot);
    rect->axis(QCPAxis::atTop)->setVisible(false);
    rect->axis(QCPAxis::atRight)->setVisible(false);
    rect->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    rect->axis(QCPAxis::atBottom)->setTicker(ticker);
    rect->axis(QCPAxis::atBottom)->setLabel(QObject::tr("Decoder layer"));
    rect->setRangeDrag(Qt::Horizontal);
    rect->setRangeZoom(Qt::Horizontal);
    return rect;
}

}  // namespace

DepthErrorView::DepthErrorView(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_style(FigureStyle::fromPreset(QStringLiteral("screen")))
{
    m_allCheck = new QCheckBox(tr("Show all experiments"), this);
    m_allCheck->setChecked(m_showAll);
    m_allCheck->setToolTip(tr("Every other quantized experiment as a light grey line."));
    auto* controls = new QHBoxLayout;
    controls->addWidget(m_allCheck);
    controls->addStretch(1);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(360, 220);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Layout: the legend in a row of its own above two panels side by side; the default axis
    // rect is replaced (side by side keeps each vertical axis label short enough for one
    // column of a paper).
    placeLegendAbove(m_plot);
    m_plot->plotLayout()->remove(m_plot->axisRect());
    auto* panels = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(1, 0, panels);
    // Grey context lines lie beneath the highlighted series whatever their creation order.
    m_plot->addLayer(QStringLiteral("context"), m_plot->layer(QStringLiteral("grid")),
                     QCustomPlot::limAbove);
    auto* group = new QCPMarginGroup(m_plot);
    m_cosineRect = makeRect(m_plot, group);
    m_sqnrRect = makeRect(m_plot, group);
    panels->addElement(0, 0, m_cosineRect);
    panels->addElement(0, 1, m_sqnrRect);
    m_cosineRect->axis(QCPAxis::atLeft)->setLabel(tr("Hidden-state cosine vs FP"));
    m_sqnrRect->axis(QCPAxis::atLeft)->setLabel(tr("Mean SQNR of linears (dB)"));
    // Both panels show the same layers.
    QCPAxis* cosineX = m_cosineRect->axis(QCPAxis::atBottom);
    QCPAxis* sqnrX = m_sqnrRect->axis(QCPAxis::atBottom);
    connect(cosineX, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), sqnrX,
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    connect(sqnrX, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), cosineX,
            qOverload<const QCPRange&>(&QCPAxis::setRange));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);

    connect(m_allCheck, &QCheckBox::toggled, this, &DepthErrorView::setShowAllExperiments);
    connect(m_model, &SessionModel::dataReset, this, &DepthErrorView::refresh);
    connect(m_model, &SessionModel::experimentsChanged, this, &DepthErrorView::refresh);
    connect(m_model, &SessionModel::experimentSelected, this, &DepthErrorView::refresh);
    connect(m_model, &SessionModel::comparedExperimentSelected, this, &DepthErrorView::refresh);
    refresh();
}

void DepthErrorView::setShowAllExperiments(bool show)
{
    if (show == m_showAll) return;
    m_showAll = show;
    const QSignalBlocker block(m_allCheck);
    m_allCheck->setChecked(show);
    refresh();
}

std::vector<double> DepthErrorView::meanLinearSqnrDb(const qs::ExperimentRecord& experiment,
                                                     int numLayers)
{
    const std::size_t layers = std::size_t(std::max(numLayers, 0));
    std::vector<double> sum(layers, 0.0), count(layers, 0.0);
    for (const auto& linear : experiment.linears) {
        if (linear.method.empty() || !std::isfinite(linear.output_sqnr_db)) continue;
        if (linear.layer < 0 || std::size_t(linear.layer) >= layers) continue;
        sum[std::size_t(linear.layer)] += linear.output_sqnr_db;
        count[std::size_t(linear.layer)] += 1;
    }
    std::vector<double> mean(layers, k_nan);
    for (std::size_t i = 0; i < layers; ++i)
        if (count[i] > 0) mean[i] = sum[i] / count[i];
    return mean;
}

void DepthErrorView::refresh()
{
    collectSeries();
    buildPlot();
}

void DepthErrorView::collectSeries()
{
    m_series.clear();
    const int layers = m_model->numLayers();
    const auto add = [&](const qs::ExperimentRecord& e, Role role) {
        Series s;
        s.id = QString::fromStdString(e.id);
        s.name = QString::fromStdString(e.name);
        s.role = role;
        s.cosine = perLayer(e.depth.cosine, layers);
        s.mse = perLayer(e.depth.mse, layers);
        s.sqnr = meanLinearSqnrDb(e, layers);
        m_series.push_back(std::move(s));
    };
    const QString selected = m_model->selectedExperiment();
    const QString compared = m_model->comparedExperiment();
    if (const auto* e = m_model->experiment(selected)) add(*e, Role::Selected);
    if (compared != selected)
        if (const auto* e = m_model->experiment(compared)) add(*e, Role::Compared);
    if (!m_showAll) return;
    for (const auto& e : m_model->data().experiments) {
        const QString id = QString::fromStdString(e.id);
        if (id != selected && id != compared && isQuantized(e)) add(e, Role::Other);
    }
}

void DepthErrorView::buildPlot()
{
    m_plot->clearPlottables();
    QVector<double> layers;
    for (int i = 0; i < m_model->numLayers(); ++i)
        layers << i;
    // Series come selected, compared, then the others: the legend keeps that order.
    bool otherInLegend = false;
    for (const Series& s : m_series) {
        for (QCPAxisRect* rect : {m_cosineRect, m_sqnrRect}) {
            auto* graph =
                m_plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
            const std::vector<double>& values = rect == m_cosineRect ? s.cosine : s.sqnr;
            graph->setData(layers, QVector<double>(values.begin(), values.end()), true);
            graph->setProperty("role", int(s.role));
            graph->setSelectable(QCP::stNone);
            graph->setName(s.role == Role::Other ? tr("other experiments") : s.name);
            if (s.role == Role::Other) graph->setLayer(QStringLiteral("context"));
            // One legend entry per series (the cosine panel's), one for all grey lines.
            const bool legend = rect == m_cosineRect && (s.role != Role::Other || !otherInLegend);
            if (!legend) graph->removeFromLegend();
            if (legend && s.role == Role::Other) otherInLegend = true;
        }
    }

    const double layerCount = std::max(m_model->numLayers(), 1);
    for (QCPAxisRect* rect : {m_cosineRect, m_sqnrRect})
        rect->axis(QCPAxis::atBottom)->setRange(-0.5, layerCount - 0.5);
    std::vector<const std::vector<double>*> cosine, sqnr;
    for (const Series& s : m_series) {
        cosine.push_back(&s.cosine);
        sqnr.push_back(&s.sqnr);
    }
    m_cosineRect->axis(QCPAxis::atLeft)->setRange(finiteRange(cosine, QCPRange(0, 1)));
    m_sqnrRect->axis(QCPAxis::atLeft)->setRange(finiteRange(sqnr, QCPRange(0, 40)));
    restyle();
}

void DepthErrorView::restyle()
{
    applyPlotStyle(m_plot, m_style);
    m_plot->legend->setBorderPen(Qt::NoPen);  // a row of its own, not a box over data
    updateLegendWrap();
    const double marker = pointsToPixels(FigureStrokes::marker);
    const QColor blue = paletteColor(PaletteColor::Blue);
    const QColor vermillion = paletteColor(PaletteColor::Vermillion);
    for (int i = 0; i < m_plot->graphCount(); ++i) {
        QCPGraph* graph = m_plot->graph(i);
        switch (Role(graph->property("role").toInt())) {
            case Role::Selected:
                graph->setPen(figurePen(blue, FigureStrokes::emphasis));
                graph->setScatterStyle(
                    QCPScatterStyle(QCPScatterStyle::ssDisc, blue, blue, marker));
                break;
            case Role::Compared:
                graph->setPen(figurePen(vermillion, FigureStrokes::emphasis, Qt::DashLine));
                graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare,
                                                       figurePen(vermillion, FigureStrokes::data),
                                                       vermillion, marker * 0.9));
                break;
            case Role::Other:
                graph->setPen(figurePen(k_otherColor, FigureStrokes::grid * 2));
                graph->setScatterStyle(QCPScatterStyle());
                break;
        }
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void DepthErrorView::updateLegendWrap()
{
    // The plot spans the view's width.
    fitLegendColumns(m_plot->legend, figureWidthPixels(m_style, this));
}

void DepthErrorView::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    if (!isPrintStyle(m_style)) {
        updateLegendWrap();
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

void DepthErrorView::applyFigureStyle(const FigureStyle& style)
{
    m_style = style;
    restyle();
}

QStringList DepthErrorView::plottedExperiments() const
{
    QStringList ids;
    for (const Series& s : m_series)
        ids << s.id;
    return ids;
}

QString DepthErrorView::figureCsv() const
{
    QString csv = QStringLiteral("experiment,layer,cosine,mse,mean_linear_sqnr_db\n");
    for (const Series& s : m_series)
        for (std::size_t layer = 0; layer < s.cosine.size(); ++layer)
            csv += QStringList{csvField(s.id), QString::number(layer), csvNumber(s.cosine[layer]),
                               csvNumber(s.mse[layer]), csvNumber(s.sqnr[layer])}
                       .join(QLatin1Char(',')) +
                   QLatin1Char('\n');
    return csv;
}

}  // namespace qs::gui
