#include "widgets/pareto_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "core/analysis/pareto.h"
#include "widgets/figure_style.h"
#include "widgets/linear_plot.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

const QColor k_otherLabelColor(0x55, 0x55, 0x55);
constexpr double k_bytesPerMb = 1e6;

bool isReference(const qs::ExperimentRecord& e)
{
    return std::none_of(e.linears.begin(), e.linears.end(),
                        [](const qs::LinearRecord& l) { return !l.method.empty(); });
}

// "awq+gptq-int4-g128-asym" -> "awq+gptq": the method part of a recipe name.
QString familyOf(const QString& name)
{
    return name.section(QLatin1Char('-'), 0, 0);
}

const qs::PerplexityRecord* perplexityOf(const qs::ExperimentRecord& e, const QString& dataset)
{
    const std::string key = dataset.toStdString();
    for (const auto& p : e.perplexity)
        if (p.dataset == key && std::isfinite(p.ppl) && p.ppl > 0) return &p;
    return nullptr;
}

QCPRange paddedRange(double low, double high, bool log, double fraction)
{
    if (log && low > 0) {
        const double span = std::max(std::log10(high / low), 0.02);
        const double pad = std::pow(10.0, span * fraction);
        return {low / pad, high * pad};
    }
    const double span = std::max(high - low, std::max(std::abs(high), 1e-9) * 0.05);
    return {low - span * fraction, high + span * fraction};
}

}  // namespace

ParetoView::ParetoView(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_style(FigureStyle::fromPreset(QStringLiteral("screen")))
{
    m_datasetCombo = new QComboBox(this);
    m_datasetCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_axisCombo = new QComboBox(this);
    m_axisCombo->addItems({tr("Size (MB)"), tr("Bits per weight")});
    m_logCheck = new QCheckBox(tr("Log perplexity"), this);
    m_labelCheck = new QCheckBox(tr("Label all points"), this);
    m_labelCheck->setChecked(m_labelAll);
    m_labelCheck->setToolTip(tr("Frontier points are always labelled; others where they fit."));
    m_referenceCheck = new QCheckBox(tr("Reference as line"), this);
    m_referenceCheck->setChecked(m_referenceAsLine);
    m_referenceCheck->setToolTip(
        tr("Draw the unquantized reference as a horizontal line instead of a point."));

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Dataset"), this));
    controls->addWidget(m_datasetCombo);
    controls->addWidget(new QLabel(tr("x axis"), this));
    controls->addWidget(m_axisCombo);
    controls->addWidget(m_logCheck);
    controls->addWidget(m_labelCheck);
    controls->addWidget(m_referenceCheck);
    controls->addStretch(1);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(320, 240);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setMouseTracking(true);
    placeLegendAbove(m_plot);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);

    connect(m_datasetCombo, &QComboBox::currentTextChanged, this, &ParetoView::setDataset);
    connect(m_axisCombo, &QComboBox::currentIndexChanged, this, [this](int index) {
        setSizeAxis(index == 1 ? SizeAxis::BitsPerWeight : SizeAxis::Megabytes);
    });
    connect(m_logCheck, &QCheckBox::toggled, this, &ParetoView::setLogPerplexity);
    connect(m_labelCheck, &QCheckBox::toggled, this, &ParetoView::setLabelAllPoints);
    connect(m_referenceCheck, &QCheckBox::toggled, this, &ParetoView::setReferenceAsLine);
    // Labels are placed in pixels, so after every layout: resize, zoom, export at print size.
    connect(m_plot, &QCustomPlot::afterLayout, this, &ParetoView::placeLabels);
    connect(m_plot, &QCustomPlot::mouseMove, this, &ParetoView::onMouseMove);
    connect(m_plot, &QCustomPlot::mousePress, this, &ParetoView::onMousePress);

    connect(m_model, &SessionModel::dataReset, this, &ParetoView::refresh);
    connect(m_model, &SessionModel::experimentsChanged, this, &ParetoView::refresh);
    connect(m_model, &SessionModel::experimentSelected, this, &ParetoView::updateHighlights);
    connect(m_model, &SessionModel::comparedExperimentSelected, this,
            &ParetoView::updateHighlights);
    refresh();
}

QStringList ParetoView::datasets() const
{
    QStringList labels;
    for (const auto& e : m_model->data().experiments)
        for (const auto& p : e.perplexity) {
            const QString label = QString::fromStdString(p.dataset);
            if (!labels.contains(label)) labels << label;
        }
    return labels;
}

void ParetoView::setDataset(const QString& label)
{
    if (label == m_dataset || !datasets().contains(label)) return;
    m_dataset = label;
    refresh();
}

void ParetoView::setSizeAxis(SizeAxis axis)
{
    if (axis == m_sizeAxis) return;
    m_sizeAxis = axis;
    refresh();
}

void ParetoView::setLogPerplexity(bool log)
{
    if (log == m_logPpl) return;
    m_logPpl = log;
    refresh();
}

void ParetoView::setLabelAllPoints(bool all)
{
    if (all == m_labelAll) return;
    m_labelAll = all;
    refresh();
}

void ParetoView::setReferenceAsLine(bool line)
{
    if (line == m_referenceAsLine) return;
    m_referenceAsLine = line;
    refresh();
}

void ParetoView::refresh()
{
    updateDatasetCombo();
    collectPoints();
    buildPlot();
}

void ParetoView::updateDatasetCombo()
{
    const QStringList labels = datasets();
    if (!labels.contains(m_dataset)) m_dataset = labels.value(0);
    const QSignalBlocker blockDataset(m_datasetCombo);
    m_datasetCombo->clear();
    m_datasetCombo->addItems(labels);
    m_datasetCombo->setCurrentText(m_dataset);
    const QSignalBlocker blockAxis(m_axisCombo);
    m_axisCombo->setCurrentIndex(m_sizeAxis == SizeAxis::BitsPerWeight ? 1 : 0);
    const QSignalBlocker blockLog(m_logCheck);
    m_logCheck->setChecked(m_logPpl);
    const QSignalBlocker blockLabel(m_labelCheck);
    m_labelCheck->setChecked(m_labelAll);
    const QSignalBlocker blockReference(m_referenceCheck);
    m_referenceCheck->setChecked(m_referenceAsLine);
}

void ParetoView::collectPoints()
{
    m_points.clear();
    m_frontierOrder.clear();
    m_hasReference = false;
    for (const auto& e : m_model->data().experiments) {
        const qs::PerplexityRecord* ppl = perplexityOf(e, m_dataset);
        if (!ppl) continue;
        Point point;
        point.id = QString::fromStdString(e.id);
        point.name = QString::fromStdString(e.name);
        point.family = familyOf(point.name);
        point.sizeBytes = double(e.size.bytes());
        point.bitsPerWeight = e.size.bits_per_weight();
        point.ppl = ppl->ppl;
        point.x = m_sizeAxis == SizeAxis::Megabytes ? point.sizeBytes / k_bytesPerMb
                                                    : point.bitsPerWeight;
        if (m_referenceAsLine && !m_hasReference && isReference(e)) {
            m_reference = point;
            m_hasReference = true;
            continue;
        }
        m_points.push_back(point);
    }
    std::vector<double> xs, ys;
    for (const Point& p : m_points) {
        xs.push_back(p.x);
        ys.push_back(p.ppl);
    }
    const std::vector<bool> onFrontier = qs::pareto_frontier(xs, ys);
    for (std::size_t i = 0; i < m_points.size(); ++i)
        m_points[i].frontier = onFrontier[i];
    for (std::size_t i : qs::frontier_order(xs, ys))
        m_frontierOrder.push_back(int(i));
}

void ParetoView::buildPlot()
{
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_familyGraphs.clear();
    m_referenceLabel = nullptr;

    m_frontierGraph = m_plot->addGraph();
    m_frontierGraph->setName(tr("Pareto frontier"));
    QVector<double> fx, fy;
    for (int i : m_frontierOrder) {
        fx << m_points[std::size_t(i)].x;
        fy << m_points[std::size_t(i)].ppl;
    }
    m_frontierGraph->setData(fx, fy, /*alreadySorted=*/true);

    QStringList families;
    for (const Point& p : m_points)
        if (!families.contains(p.family)) families << p.family;
    for (int f = 0; f < families.size(); ++f) {
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(families[f]);
        graph->setLineStyle(QCPGraph::lsNone);
        graph->setProperty("familyIndex", f);
        QVector<double> x, y;
        for (const Point& p : m_points)
            if (p.family == families[f]) {
                x << p.x;
                y << p.ppl;
            }
        graph->setData(x, y);
        m_familyGraphs.push_back(graph);
    }
    // Keep the legend to the frontier and the methods; the rings explain themselves in the GUI
    // and get their own entries only when present.
    const auto addRing = [this](const QString& name, bool inLegend) {
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(name);
        graph->setLineStyle(QCPGraph::lsNone);
        if (!inLegend) graph->removeFromLegend();
        return graph;
    };
    m_selectedGraph = addRing(tr("selected"), false);
    m_comparedGraph = addRing(tr("compared"), false);
    m_selectedLegend = addRing(tr("selected"), true);
    m_comparedLegend = addRing(tr("compared"), true);
    for (int i = 0; i < m_plot->graphCount(); ++i)
        m_plot->graph(i)->setSelectable(QCP::stNone);

    for (Point& p : m_points) {
        p.label = nullptr;
        if (!p.frontier && !m_labelAll) continue;
        p.label = new QCPItemText(m_plot);
        p.label->setText(p.name);
        p.label->position->setType(QCPItemPosition::ptAbsolute);
        p.label->setPositionAlignment(Qt::AlignCenter);
        p.label->setProperty("frontier", p.frontier);
        p.leader = new QCPItemLine(m_plot);
        p.leader->start->setType(QCPItemPosition::ptAbsolute);
        p.leader->end->setType(QCPItemPosition::ptAbsolute);
        p.leader->setVisible(false);
    }
    if (m_hasReference) {
        auto* line = new QCPItemStraightLine(m_plot);
        line->setObjectName(QStringLiteral("reference"));
        line->point1->setCoords(0, m_reference.ppl);
        line->point2->setCoords(1, m_reference.ppl);
        m_referenceLabel = new QCPItemText(m_plot);
        m_referenceLabel->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
        m_referenceLabel->position->setTypeY(QCPItemPosition::ptPlotCoords);
        m_referenceLabel->position->setCoords(0.01, m_reference.ppl);
        m_referenceLabel->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        m_referenceLabel->setText(QStringLiteral("%1 (unquantized): %2")
                                      .arg(m_reference.name)
                                      .arg(m_reference.ppl, 0, 'f', 2));
    }

    const QString dataset = m_dataset.isEmpty() ? tr("no dataset") : m_dataset;
    m_plot->xAxis->setLabel(m_sizeAxis == SizeAxis::Megabytes
                                ? tr("Model size (MB, all weights as stored)")
                                : tr("Bits per weight (all parameters)"));
    m_plot->yAxis->setLabel(m_logPpl ? tr("Perplexity, %1 (log scale)").arg(dataset)
                                     : tr("Perplexity, %1").arg(dataset));
    if (m_logPpl) {
        setNarrowLogScale(m_plot->yAxis);
    } else {
        m_plot->yAxis->setScaleType(QCPAxis::stLinear);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
    updateRanges();
    restyle();
    updateHighlights();
}

void ParetoView::updateRanges()
{
    if (m_points.empty() && !m_hasReference) return;
    double xLow = std::numeric_limits<double>::max(), xHigh = -xLow;
    double yLow = xLow, yHigh = -xLow;
    for (const Point& p : m_points) {
        xLow = std::min(xLow, p.x);
        xHigh = std::max(xHigh, p.x);
        yLow = std::min(yLow, p.ppl);
        yHigh = std::max(yHigh, p.ppl);
    }
    if (m_hasReference) {
        yLow = std::min(yLow, m_reference.ppl);
        yHigh = std::max(yHigh, m_reference.ppl);
        if (m_points.empty()) xLow = xHigh = m_reference.x;
    }
    // Generous padding: labels sit beside the outermost points.
    m_plot->xAxis->setRange(paddedRange(xLow, xHigh, false, 0.12));
    m_plot->yAxis->setRange(paddedRange(yLow, yHigh, m_logPpl, 0.12));
}

void ParetoView::updateHighlights()
{
    if (!m_selectedGraph) return;
    const auto fill = [this](QCPGraph* graph, QCPGraph* legend, const QString& id) {
        const Point* p = findPoint(id);
        graph->data()->clear();
        if (p) {
            graph->addData(p->x, p->ppl);
            legend->addToLegend();
        } else {
            legend->removeFromLegend();
        }
    };
    fill(m_selectedGraph, m_selectedLegend, m_model->selectedExperiment());
    fill(m_comparedGraph, m_comparedLegend, m_model->comparedExperiment());
    fitLegendColumns(m_plot->legend, figureWidthPixels(m_style, this));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoView::restyle()
{
    applyPlotStyle(m_plot, m_style);
    const double marker = pointsToPixels(FigureStrokes::marker);
    for (QCPGraph* graph : m_familyGraphs) {
        const QColor color = seriesColor(graph->property("familyIndex").toInt());
        graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, marker));
    }
    if (m_frontierGraph) {
        m_frontierGraph->setPen(figurePen(Qt::black, FigureStrokes::axis));
        m_frontierGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle,
                                                         figurePen(Qt::black, FigureStrokes::axis),
                                                         Qt::NoBrush, marker + pointsToPixels(2)));
    }
    const double ring = marker + pointsToPixels(5);
    if (m_selectedGraph) {
        m_selectedGraph->setPen(Qt::NoPen);
        m_selectedGraph->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle,
                            figurePen(Qt::black, FigureStrokes::emphasis), Qt::NoBrush, ring));
        const QPen vermillion =
            figurePen(paletteColor(PaletteColor::Vermillion), FigureStrokes::emphasis);
        m_comparedGraph->setPen(Qt::NoPen);
        m_comparedGraph->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssSquare, vermillion, Qt::NoBrush, ring));
        // The legend clips each icon to its box: the rings there fit the box, pen included.
        const double iconRing = std::min(ring, m_plot->legend->iconSize().height() -
                                                   pointsToPixels(FigureStrokes::emphasis) - 1);
        for (auto [legend, graph] :
             {std::pair{m_selectedLegend, m_selectedGraph}, {m_comparedLegend, m_comparedGraph}}) {
            QCPScatterStyle style = graph->scatterStyle();
            style.setSize(iconRing);
            legend->setPen(Qt::NoPen);
            legend->setScatterStyle(style);
        }
    }
    const QFont frontierFont = figureFont(m_style, 0.85);
    const QFont otherFont = figureFont(m_style, 0.75);
    for (Point& p : m_points) {
        if (!p.label) continue;
        p.label->setFont(p.frontier ? frontierFont : otherFont);
        p.label->setColor(p.frontier ? QColor(Qt::black) : k_otherLabelColor);
        p.leader->setPen(
            figurePen(p.frontier ? QColor(Qt::black) : k_otherLabelColor, FigureStrokes::grid));
    }
    for (int i = 0; i < m_plot->itemCount(); ++i)
        if (auto* line = qobject_cast<QCPItemStraightLine*>(m_plot->item(i)))
            line->setPen(figurePen(k_otherLabelColor, FigureStrokes::data, Qt::DashLine));
    if (m_referenceLabel) {
        m_referenceLabel->setFont(otherFont);
        m_referenceLabel->setColor(k_otherLabelColor);
    }
    m_plot->legend->setBorderPen(Qt::NoPen);  // a row of its own, not a box over data
    fitLegendColumns(m_plot->legend, figureWidthPixels(m_style, this));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoView::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    if (!isPrintStyle(m_style)) {
        fitLegendColumns(m_plot->legend, figureWidthPixels(m_style, this));
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

void ParetoView::applyFigureStyle(const FigureStyle& style)
{
    m_style = style;
    restyle();
}

const ParetoView::Point* ParetoView::findPoint(const QString& id) const
{
    for (const Point& p : m_points)
        if (p.id == id) return &p;
    return nullptr;
}

QStringList ParetoView::plottedIds() const
{
    QStringList ids;
    for (const Point& p : m_points)
        ids << p.id;
    return ids;
}

QStringList ParetoView::frontierIds() const
{
    QStringList ids;
    for (int i : m_frontierOrder)
        ids << m_points[std::size_t(i)].id;
    return ids;
}

QString ParetoView::referenceId() const
{
    return m_hasReference ? m_reference.id : QString();
}

QPointF ParetoView::pointPixel(const QString& id) const
{
    const Point* p = findPoint(id);
    if (!p) return {-1, -1};
    return {m_plot->xAxis->coordToPixel(p->x), m_plot->yAxis->coordToPixel(p->ppl)};
}

QString ParetoView::experimentAt(const QPointF& pixel) const
{
    const double reach = std::max(8.0, pointsToPixels(FigureStrokes::marker));
    QString nearest;
    double best = reach * reach;
    for (const Point& p : m_points) {
        const QPointF d = pointPixel(p.id) - pixel;
        const double distance = QPointF::dotProduct(d, d);
        if (distance <= best) {
            best = distance;
            nearest = p.id;
        }
    }
    if (nearest.isEmpty() && m_hasReference &&
        m_plot->axisRect()->rect().contains(pixel.toPoint()) &&
        std::abs(m_plot->yAxis->coordToPixel(m_reference.ppl) - pixel.y()) <= 4)
        nearest = m_reference.id;
    return nearest;
}

QString ParetoView::tooltipText(const QString& id) const
{
    const qs::ExperimentRecord* e = m_model->experiment(id);
    if (!e) return {};
    QStringList lines;
    lines << QStringLiteral("%1 (%2)").arg(QString::fromStdString(e->name), id);
    for (const auto& p : e->perplexity)
        lines
            << tr("%1 perplexity %2").arg(QString::fromStdString(p.dataset)).arg(p.ppl, 0, 'f', 3);
    lines << tr("size %1 MB, %2 bits/weight (linears %3)")
                 .arg(double(e->size.bytes()) / k_bytesPerMb, 0, 'f', 3)
                 .arg(e->size.bits_per_weight(), 0, 'f', 3)
                 .arg(e->size.linear_bits_per_weight(), 0, 'f', 3);
    lines << tr("quantized in %1 s").arg(e->quantize_seconds, 0, 'f', 1);
    const Point* p = findPoint(id);
    if (p && p->frontier) lines << tr("on the Pareto frontier");
    if (m_hasReference && m_reference.id == id) lines << tr("unquantized reference");
    return lines.join(QLatin1Char('\n'));
}

void ParetoView::onMouseMove(QMouseEvent* event)
{
    const QString id = experimentAt(event->position());
    if (id.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), tooltipText(id), m_plot);
}

void ParetoView::onMousePress(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton) return;
    const QString id = experimentAt(event->position());
    if (!id.isEmpty()) m_model->selectExperiment(id);
}

QString ParetoView::figureName() const
{
    return m_dataset.isEmpty() ? QStringLiteral("pareto")
                               : QStringLiteral("pareto-%1").arg(m_dataset);
}

QString ParetoView::figureCsv() const
{
    QString csv = QStringLiteral("id,name,dataset,size_bytes,bits_per_weight,ppl,on_frontier\n");
    const auto row = [&](const Point& p) {
        csv += QStringList{csvField(p.id),
                           csvField(p.name),
                           csvField(m_dataset),
                           QString::number(qint64(p.sizeBytes)),
                           QString::number(p.bitsPerWeight, 'g', 8),
                           QString::number(p.ppl, 'g', 8),
                           p.frontier ? QStringLiteral("1") : QStringLiteral("0")}
                   .join(QLatin1Char(','));
        csv += QLatin1Char('\n');
    };
    for (const Point& p : m_points)
        row(p);
    if (m_hasReference) row(m_reference);  // the dashed line
    return csv;
}

}  // namespace qs::gui
