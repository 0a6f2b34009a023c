#include "widgets/kurtosis_map_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "widgets/figure_style.h"
#include "widgets/linear_plot.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

// Viridis (perceptually uniform, colour-blind safe, prints in grey as a monotone ramp).
QCPColorGradient viridis()
{
    QCPColorGradient gradient;
    gradient.clearColorStops();
    gradient.setColorStopAt(0.00, QColor(0x44, 0x01, 0x54));
    gradient.setColorStopAt(0.25, QColor(0x3B, 0x52, 0x8B));
    gradient.setColorStopAt(0.50, QColor(0x21, 0x91, 0x8C));
    gradient.setColorStopAt(0.75, QColor(0x5E, 0xC9, 0x62));
    gradient.setColorStopAt(1.00, QColor(0xFD, 0xE7, 0x25));
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    return gradient;
}

// Colour bar ticks at round kurtosis values, placed at their colour coordinates.
QSharedPointer<QCPAxisTickerText> kurtosisTicks(const QCPRange& range)
{
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    static const double values[] = {-1, 0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000};
    QVector<double> chosen;
    for (double v : values)
        if (range.contains(KurtosisMapView::colourCoordinate(v))) chosen << v;
    // Past six ticks keep the powers of ten (and 0, -1).
    if (chosen.size() > 6)
        chosen.erase(
            std::remove_if(chosen.begin(), chosen.end(),
                           [](double v) { return v > 1 && std::fmod(std::log10(v), 1.0) != 0; }),
            chosen.end());
    for (double v : chosen)
        ticker->addTick(KurtosisMapView::colourCoordinate(v), QString::number(v, 'g', 6));
    return ticker;
}

QString cellText(double v)
{
    const double a = std::abs(v);
    if (a >= 9999.5) return QStringLiteral("%1k").arg(v / 1000, 0, 'f', 0);
    if (a >= 999.5) return QStringLiteral("%1k").arg(v / 1000, 0, 'f', 1);
    return QString::number(v, 'f', a < 9.95 ? 1 : 0);
}

}  // namespace

KurtosisMapView::KurtosisMapView(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_style(FigureStyle::fromPreset(QStringLiteral("screen")))
{
    m_kindCombo = new QComboBox(this);
    m_kindCombo->addItems({tr("Weights"), tr("Activations")});
    m_sourceCombo = new QComboBox(this);
    m_sourceCombo->addItems({tr("Baseline (original)"), tr("Selected experiment")});
    m_stageCombo = new QComboBox(this);
    m_stageCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    auto* controls = new QHBoxLayout;
    controls->addWidget(m_kindCombo);
    controls->addWidget(new QLabel(tr("Source"), this));
    controls->addWidget(m_sourceCombo);
    controls->addWidget(new QLabel(tr("Stage"), this));
    controls->addWidget(m_stageCombo);
    controls->addStretch(1);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(320, 240);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(false);
    m_map->setGradient(viridis());
    m_map->setSelectable(QCP::stNone);
    m_scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(0, 1, m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_scale->axis()->setLabel(tr("Excess kurtosis (log colour scale)"));
    m_map->setColorScale(m_scale);
    m_scale->setGradient(viridis());  // the map takes its gradient from the scale
    // The colour bar spans exactly the map's height.
    auto* group = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    m_scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis})
        axis->grid()->setVisible(false);
    m_plot->xAxis->setLabel(tr("Linear module"));
    m_plot->yAxis->setLabel(tr("Decoder layer"));
    auto layerTicker = QSharedPointer<QCPAxisTickerFixed>::create();
    layerTicker->setTickStep(1);
    layerTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->yAxis->setTicker(layerTicker);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);

    connect(m_kindCombo, &QComboBox::currentIndexChanged, this, [this](int index) {
        setTensorKind(index == 1 ? TensorKind::Activations : TensorKind::Weights);
    });
    connect(m_sourceCombo, &QComboBox::currentIndexChanged, this,
            [this](int index) { setSource(index == 1 ? Source::Experiment : Source::Baseline); });
    connect(m_stageCombo, &QComboBox::textActivated, this, &KurtosisMapView::setStage);
    connect(m_plot, &QCustomPlot::afterLayout, this, &KurtosisMapView::placeCellText);
    connect(m_plot, &QCustomPlot::mousePress, this, &KurtosisMapView::onMousePress);
    connect(m_model, &SessionModel::dataReset, this, &KurtosisMapView::refresh);
    connect(m_model, &SessionModel::experimentsChanged, this, &KurtosisMapView::refresh);
    connect(m_model, &SessionModel::experimentSelected, this, [this] {
        if (m_source == Source::Experiment) refresh();
    });
    connect(m_model, &SessionModel::linearSelected, this, &KurtosisMapView::updateSelection);
    refresh();
}

QString KurtosisMapView::shortModuleName(const QString& module)
{
    QString name = module.section(QLatin1Char('.'), -1);
    if (name.endsWith(QLatin1String("_proj"))) name.chop(5);
    return name;
}

double KurtosisMapView::colourCoordinate(double kurtosisExcess)
{
    return std::copysign(std::log10(1.0 + std::abs(kurtosisExcess)), kurtosisExcess);
}

void KurtosisMapView::setTensorKind(TensorKind kind)
{
    if (kind == m_kind) return;
    m_kind = kind;
    refresh();
}

void KurtosisMapView::setSource(Source source)
{
    if (source == m_source) return;
    m_source = source;
    refresh();
}

void KurtosisMapView::setStage(const QString& stage)
{
    if (stage == m_stage || stage.isEmpty()) return;
    m_stage = stage;
    refresh();
}

QStringList KurtosisMapView::availableStages() const
{
    QStringList stages;
    const qs::ExperimentRecord* e = m_model->currentExperiment();
    if (!e) return stages;
    for (const QString& stage : stageOrder()) {
        if (stage == QLatin1String("original")) continue;
        const std::string key = stage.toStdString();
        const bool present = std::any_of(e->linears.begin(), e->linears.end(), [&](const auto& l) {
            const auto& byStage =
                m_kind == TensorKind::Weights ? l.weight_stats : l.activation_stats;
            const auto it = byStage.find(key);
            return it != byStage.end() && !it->second.empty();
        });
        if (present) stages << stage;
    }
    return stages;
}

void KurtosisMapView::refresh()
{
    updateControls();
    collectCells();
    buildPlot();
}

void KurtosisMapView::updateControls()
{
    const QStringList stages = availableStages();
    // A stage the experiment lacks (an RTN recipe has no "awq") falls back to its first stage.
    if (!stages.isEmpty() && !stages.contains(m_stage)) m_stage = stages.front();
    const QSignalBlocker blockKind(m_kindCombo);
    m_kindCombo->setCurrentIndex(m_kind == TensorKind::Activations ? 1 : 0);
    const QSignalBlocker blockSource(m_sourceCombo);
    m_sourceCombo->setCurrentIndex(m_source == Source::Experiment ? 1 : 0);
    const QSignalBlocker blockStage(m_stageCombo);
    m_stageCombo->clear();
    if (m_source == Source::Baseline) {
        m_stageCombo->addItem(QStringLiteral("original"));
    } else {
        m_stageCombo->addItems(stages);
        m_stageCombo->setCurrentText(m_stage);
    }
    m_stageCombo->setEnabled(m_source == Source::Experiment && stages.size() > 1);
}

void KurtosisMapView::collectCells()
{
    m_modules = m_model->moduleNames();
    m_layers = m_model->numLayers();
    m_cells.assign(std::size_t(m_layers) * std::size_t(m_modules.size()), Cell{k_nan, 0, nullptr});
    m_hasValues = false;
    // One colour range for the baseline and every stage of the selected experiment, so that
    // flipping between sources and stages compares like with like. It always covers the normal
    // value 0.
    m_colourLow = 0;
    m_colourHigh = colourCoordinate(1);
    const auto widen = [this](const qs::LinearRecord* record) {
        if (!record) return;
        for (const auto& [stage, s] :
             m_kind == TensorKind::Weights ? record->weight_stats : record->activation_stats) {
            if (s.empty() || !std::isfinite(s.kurtosis_excess())) continue;
            m_colourLow = std::min(m_colourLow, colourCoordinate(s.kurtosis_excess()));
            m_colourHigh = std::max(m_colourHigh, colourCoordinate(s.kurtosis_excess()));
        }
    };
    for (int layer = 0; layer < m_layers; ++layer)
        for (const QString& module : m_modules) {
            widen(m_model->baselineLinear(layer, module));
            widen(m_model->experimentLinear(m_model->selectedExperiment(), layer, module));
        }
    const QString experiment = m_model->selectedExperiment();
    if (m_source == Source::Experiment && experiment.isEmpty()) return;
    const std::string stageKey = stage().toStdString();
    for (int layer = 0; layer < m_layers; ++layer)
        for (int column = 0; column < m_modules.size(); ++column) {
            const QString& module = m_modules[column];
            const qs::LinearRecord* record =
                m_source == Source::Baseline ? m_model->baselineLinear(layer, module)
                                             : m_model->experimentLinear(experiment, layer, module);
            if (!record) continue;
            const auto& byStage =
                m_kind == TensorKind::Weights ? record->weight_stats : record->activation_stats;
            const auto it = byStage.find(stageKey);
            if (it == byStage.end() || it->second.empty()) continue;
            Cell* c = cell(layer, column);
            c->kurtosis = it->second.kurtosis_excess();
            c->outlierChannels = int(it->second.outlier_channels.size());
            m_hasValues = m_hasValues || std::isfinite(c->kurtosis);
        }
}

void KurtosisMapView::buildPlot()
{
    m_plot->clearItems();
    m_selection = nullptr;
    const int columns = int(m_modules.size());
    auto* data = m_map->data();
    data->setSize(std::max(columns, 1), std::max(m_layers, 1));
    data->setRange(QCPRange(0, std::max(columns - 1, 0)), QCPRange(0, std::max(m_layers - 1, 0)));
    data->fill(k_nan);
    const double low = m_colourLow, high = m_colourHigh;
    for (int layer = 0; layer < m_layers; ++layer)
        for (int column = 0; column < columns; ++column) {
            Cell* c = cell(layer, column);
            if (!std::isfinite(c->kurtosis)) continue;
            const double coordinate = colourCoordinate(c->kurtosis);
            data->setCell(column, layer, coordinate);
            c->text = new QCPItemText(m_plot);
            c->text->position->setCoords(column, layer);
            c->text->setText(cellText(c->kurtosis));
            c->text->setPositionAlignment(Qt::AlignCenter);
            c->text->setSelectable(false);
        }
    const QCPRange range(low, high);
    m_scale->setDataRange(range);
    m_scale->axis()->setTicker(kurtosisTicks(range));
    // Dark text on the light (yellow/green) end, white on the dark (purple/blue) end.
    for (Cell& c : m_cells)
        if (c.text) {
            const double coordinate = colourCoordinate(c.kurtosis);
            const QColor fill = m_map->gradient().color(coordinate, range);
            const bool light =
                0.299 * fill.red() + 0.587 * fill.green() + 0.114 * fill.blue() > 140;
            c.text->setColor(light ? Qt::black : Qt::white);
        }

    auto labels = QSharedPointer<QCPAxisTickerText>::create();
    for (int column = 0; column < columns; ++column)
        labels->addTick(column, shortModuleName(m_modules[column]));
    m_plot->xAxis->setTicker(labels);
    m_plot->xAxis->setRange(-0.5, columns - 0.5);
    m_plot->yAxis->setRange(-0.5, std::max(m_layers, 1) - 0.5);
    m_plot->xAxis->setLabel(
        m_source == Source::Baseline
            ? tr("Linear module (%1, baseline)").arg(kindName(m_kind))
            : tr("Linear module (%1, %2, %3)")
                  .arg(kindName(m_kind), m_model->selectedExperiment(), m_stage));

    m_selection = new QCPItemRect(m_plot);
    m_selection->setSelectable(false);
    m_selection->setBrush(Qt::NoBrush);
    restyle();
    updateSelection();
}

void KurtosisMapView::restyle()
{
    applyPlotStyle(m_plot, m_style);
    for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->grid()->setVisible(false);
        axis->setSubTicks(false);
    }
    QCPAxis* bar = m_scale->axis();
    styleFigureAxis(bar, m_style);
    bar->setSubTicks(false);
    m_scale->setBarWidth(qRound(pointsToPixels(8)));
    const QFont cellFont = figureFont(m_style, 0.8);
    for (Cell& c : m_cells)
        if (c.text) c.text->setFont(cellFont);
    if (m_selection) m_selection->setPen(figurePen(paletteColor(PaletteColor::Vermillion), 2.0));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void KurtosisMapView::applyFigureStyle(const FigureStyle& style)
{
    m_style = style;
    restyle();
}

void KurtosisMapView::updateSelection()
{
    if (!m_selection) return;
    const int column = int(m_modules.indexOf(m_model->selectedModule()));
    const int layer = m_model->selectedLayer();
    const bool show = column >= 0 && layer >= 0 && layer < m_layers;
    m_selection->setVisible(show);
    if (show) {
        m_selection->topLeft->setCoords(column - 0.5, layer + 0.5);
        m_selection->bottomRight->setCoords(column + 0.5, layer - 0.5);
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void KurtosisMapView::placeCellText()
{
    // All or nothing: a map with values in some cells only reads as missing data.
    const double cellWidth =
        std::abs(m_plot->xAxis->coordToPixel(1) - m_plot->xAxis->coordToPixel(0));
    const double cellHeight =
        std::abs(m_plot->yAxis->coordToPixel(1) - m_plot->yAxis->coordToPixel(0));
    double textWidth = 0, textHeight = 0;
    for (const Cell& c : m_cells)
        if (c.text) {
            const QRectF box = QFontMetricsF(c.text->font()).boundingRect(c.text->text());
            textWidth = std::max(textWidth, box.width());
            textHeight = std::max(textHeight, box.height());
        }
    m_cellTextVisible = textWidth + 4 <= cellWidth && textHeight + 2 <= cellHeight;
    for (Cell& c : m_cells)
        if (c.text) c.text->setVisible(m_cellTextVisible);
}

void KurtosisMapView::onMousePress(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton) return;
    if (!m_plot->axisRect()->rect().contains(event->position().toPoint())) return;
    const int column = qRound(m_plot->xAxis->pixelToCoord(event->position().x()));
    const int layer = qRound(m_plot->yAxis->pixelToCoord(event->position().y()));
    if (column < 0 || column >= m_modules.size() || layer < 0 || layer >= m_layers) return;
    m_model->selectLinear(layer, m_modules[column]);
}

KurtosisMapView::Cell* KurtosisMapView::cell(int layer, int column)
{
    return &m_cells[std::size_t(layer) * std::size_t(m_modules.size()) + std::size_t(column)];
}

const KurtosisMapView::Cell* KurtosisMapView::cell(int layer, int column) const
{
    return &m_cells[std::size_t(layer) * std::size_t(m_modules.size()) + std::size_t(column)];
}

double KurtosisMapView::cellValue(int layer, const QString& module) const
{
    const int column = int(m_modules.indexOf(module));
    if (column < 0 || layer < 0 || layer >= m_layers) return k_nan;
    return cell(layer, column)->kurtosis;
}

QPointF KurtosisMapView::cellPixel(int layer, const QString& module) const
{
    const int column = int(m_modules.indexOf(module));
    return {m_plot->xAxis->coordToPixel(column), m_plot->yAxis->coordToPixel(layer)};
}

QString KurtosisMapView::sourceName() const
{
    return m_source == Source::Baseline ? QStringLiteral("baseline")
                                        : m_model->selectedExperiment();
}

QString KurtosisMapView::figureName() const
{
    const QString base = QStringLiteral("kurtosis-%1").arg(kindName(m_kind));
    return m_source == Source::Baseline
               ? base
               : QStringLiteral("%1-%2-%3").arg(base, sourceName(), m_stage);
}

QString KurtosisMapView::figureCsv() const
{
    QString csv = QStringLiteral("layer,module,source,stage,kurtosis_excess,outlier_channels\n");
    for (int layer = 0; layer < m_layers; ++layer)
        for (int column = 0; column < m_modules.size(); ++column) {
            const Cell* c = cell(layer, column);
            if (!std::isfinite(c->kurtosis)) continue;
            csv += QStringList{QString::number(layer),
                               csvField(m_modules[column]),
                               csvField(sourceName()),
                               stage(),
                               QString::number(c->kurtosis, 'g', 10),
                               QString::number(c->outlierChannels)}
                       .join(QLatin1Char(',')) +
                   QLatin1Char('\n');
        }
    return csv;
}

}  // namespace qs::gui
