#include "widgets/channel_absmax_view.h"

#include <algorithm>
#include <cmath>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "widgets/figure_style.h"
#include "widgets/linear_plot.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

constexpr int k_labelledChannels = 5;

// The convention of core/analysis/tensor_stats.h (median of an even count: mean of the two
// middle values), so the dashed line is exactly the threshold that chose the outliers.
double medianOf(std::vector<float> values)
{
    const std::size_t n = values.size();
    if (n == 0) return 0;
    const auto mid = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(values.begin(), mid, values.end());
    const double upper = *mid;
    if (n % 2 == 1) return upper;
    return 0.5 * (upper + *std::max_element(values.begin(), mid));
}

QCPBars* makeBars(QCustomPlot* plot, const QColor& color, const QString& name)
{
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    // An outline in the fill colour: unantialiased neighbours otherwise leave seams and the
    // sub-pixel bars of wide layers vanish.
    bars->setPen(QPen(color, 0));
    bars->setBrush(color);
    bars->setAntialiased(false);
    bars->setName(name);
    return bars;
}

}  // namespace

ChannelAbsmaxView::ChannelAbsmaxView(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model)
{
    m_kindCombo = new QComboBox(this);
    m_kindCombo->addItem(tr("activations"), static_cast<int>(TensorKind::Activations));
    m_kindCombo->addItem(tr("weights"), static_cast<int>(TensorKind::Weights));
    m_kindCombo->setToolTip(
        tr("Per-input-channel absmax of the linear's input activations "
           "(max over tokens) or of its weight columns (max over rows)"));
    m_stageCombo = new QComboBox(this);
    m_stageCombo->setToolTip(
        tr("Statistics stage: original = full-precision baseline; input, "
           "smoothquant, awq, quantized = the selected experiment"));

    auto* controls = new QHBoxLayout;
    controls->setContentsMargins(0, 0, 0, 0);
    controls->addWidget(new QLabel(tr("Channel absmax of"), this));
    controls->addWidget(m_kindCombo);
    controls->addWidget(new QLabel(tr("at stage"), this));
    controls->addWidget(m_stageCombo);
    controls->addStretch(1);

    m_plot = makeLinearPlot(this);
    m_plot->xAxis->setLabel(tr("input channel"));
    m_bars = makeBars(m_plot, paletteColor(PaletteColor::Blue), tr("channels"));
    m_outlierBars =
        makeBars(m_plot, paletteColor(PaletteColor::Vermillion), tr("outlier channels"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);

    connect(m_kindCombo, &QComboBox::currentIndexChanged, this,
            [this] { setTensorKind(static_cast<TensorKind>(m_kindCombo->currentData().toInt())); });
    connect(m_stageCombo, &QComboBox::currentIndexChanged, this,
            [this] { setStage(m_stageCombo->currentData().toString()); });

    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(0);
    connect(&m_refreshTimer, &QTimer::timeout, this, &ChannelAbsmaxView::refresh);
    connect(m_model, &SessionModel::dataReset, this, &ChannelAbsmaxView::scheduleRefresh);
    connect(m_model, &SessionModel::experimentsChanged, this, &ChannelAbsmaxView::scheduleRefresh);
    connect(m_model, &SessionModel::experimentSelected, this, &ChannelAbsmaxView::scheduleRefresh);
    connect(m_model, &SessionModel::linearSelected, this, &ChannelAbsmaxView::scheduleRefresh);
    refresh();
}

void ChannelAbsmaxView::setTensorKind(TensorKind kind)
{
    if (kind == m_kind) return;
    m_kind = kind;
    {
        const QSignalBlocker blocker(m_kindCombo);
        m_kindCombo->setCurrentIndex(m_kindCombo->findData(static_cast<int>(kind)));
    }
    refresh();
}

bool ChannelAbsmaxView::setStage(const QString& stage)
{
    if (!m_available.contains(stage)) return false;
    if (stage == m_stage) return true;
    m_stage = stage;
    refresh();
    emit stageChanged(m_stage);
    return true;
}

void ChannelAbsmaxView::scheduleRefresh()
{
    m_refreshTimer.start();
}

void ChannelAbsmaxView::fillStageCombo()
{
    const QSignalBlocker blocker(m_stageCombo);
    m_stageCombo->clear();
    for (const QString& stage : m_available)
        m_stageCombo->addItem(stage, stage);
    m_stageCombo->setCurrentIndex(static_cast<int>(m_available.indexOf(m_stage)));
    m_stageCombo->setEnabled(m_available.size() > 1);
}

void ChannelAbsmaxView::refresh()
{
    m_refreshTimer.stop();
    m_layer = m_model->selectedLayer();
    m_module = m_model->selectedModule();
    const auto stages = linearStages(*m_model, m_layer, m_module, m_kind);
    m_available.clear();
    for (const auto& s : stages)
        if (!s.stats->in_absmax.empty()) m_available << s.stage;
    // Keep the stage across selections so stepping through layers compares like with like.
    if (!m_available.contains(m_stage) && !m_available.isEmpty()) m_stage = m_available.front();
    fillStageCombo();

    m_absmax.clear();
    m_isOutlier.clear();
    m_threshold = 0;
    std::vector<std::int32_t> top;
    if (const qs::TensorStats* stats = findStage(stages, m_stage)) {
        m_absmax = stats->in_absmax;
        m_isOutlier.assign(m_absmax.size(), false);
        for (const std::int32_t c : stats->outlier_channels)
            if (c >= 0 && static_cast<std::size_t>(c) < m_isOutlier.size())
                m_isOutlier[static_cast<std::size_t>(c)] = true;
        m_outlierK = stats->outlier_k;
        m_threshold = m_outlierK * medianOf(m_absmax);
        top = stats->top_channels;
    }
    plotChannels();
    if (!m_absmax.empty())
        labelTopChannels(top, *std::max_element(m_absmax.begin(), m_absmax.end()));
    applyLinearPlotStyle(m_plot, m_style);
    m_plot->replot();
}

void ChannelAbsmaxView::plotChannels()
{
    m_plot->clearItems();
    const bool weights = m_kind == TensorKind::Weights;
    QString title = weights ? tr("Weight column absmax") : tr("Activation absmax");
    if (m_layer >= 0 && !m_absmax.empty())
        title += QStringLiteral(" · %1 · %2").arg(linearShortName(m_layer, m_module), m_stage);
    setLinearPlotTitle(m_plot, title);
    m_plot->yAxis->setLabel(weights ? tr("max |w| over rows") : tr("max |x| over tokens"));

    QVector<double> keys, values, outlierKeys, outlierValues;
    for (std::size_t c = 0; c < m_absmax.size(); ++c) {
        auto& k = m_isOutlier[c] ? outlierKeys : keys;
        auto& v = m_isOutlier[c] ? outlierValues : values;
        k.append(static_cast<double>(c));
        v.append(m_absmax[c]);
    }
    // Gaps between bars only while they are wide enough to see; dense plots read as an area.
    const double width = m_absmax.size() <= 256 ? 0.8 : 1.0;
    m_bars->setWidth(width);
    m_outlierBars->setWidth(width);
    m_bars->setData(keys, values, /*alreadySorted=*/true);
    m_outlierBars->setData(outlierKeys, outlierValues, /*alreadySorted=*/true);
    if (m_absmax.empty()) {
        m_plot->xAxis->setRange(0, 1);
        m_plot->yAxis->setRange(0, 1);
        return;
    }
    const double peak = *std::max_element(m_absmax.begin(), m_absmax.end());
    m_plot->xAxis->setRange(-0.5, static_cast<double>(m_absmax.size()) - 0.5);
    // Headroom for the channel labels above the tallest bar and for the threshold line when
    // no channel reaches it (a flat profile after SmoothQuant).
    const double top = std::max(peak, m_threshold);
    m_plot->yAxis->setRange(0.0, top > 0 ? top * 1.15 : 1.0);

    auto* line = new QCPItemStraightLine(m_plot);
    line->point1->setCoords(0, m_threshold);
    line->point2->setCoords(1, m_threshold);
    line->setPen(figurePen(Qt::black, FigureStrokes::data, Qt::DashLine));
    auto* label = new QCPItemText(m_plot);
    label->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    label->position->setTypeY(QCPItemPosition::ptPlotCoords);
    label->position->setCoords(0.99, m_threshold);
    label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    const int outliers = static_cast<int>(std::count(m_isOutlier.begin(), m_isOutlier.end(), true));
    label->setText(tr("%1 × median = %2 · %n outlier channel(s)", nullptr, outliers)
                       .arg(m_outlierK)
                       .arg(m_threshold, 0, 'g', 3));
    label->setBrush(QColor(255, 255, 255, 210));
    label->setClipToAxisRect(true);
}

void ChannelAbsmaxView::labelTopChannels(const std::vector<std::int32_t>& top, double peak)
{
    // The few largest channels by index: those are the ones a reader looks up. Neighbours
    // closer than 4 % of the axis would print over each other; the larger one keeps its label.
    const double minGap = 0.04 * static_cast<double>(m_absmax.size());
    std::vector<std::int32_t> labelled;
    for (const std::int32_t c : top) {
        if (static_cast<int>(labelled.size()) == k_labelledChannels) break;
        if (c < 0 || static_cast<std::size_t>(c) >= m_absmax.size()) continue;
        const bool crowded = std::any_of(labelled.begin(), labelled.end(),
                                         [&](std::int32_t o) { return std::abs(o - c) < minGap; });
        if (crowded) continue;
        labelled.push_back(c);
        auto* text = new QCPItemText(m_plot);
        text->position->setCoords(c, m_absmax[static_cast<std::size_t>(c)] + 0.01 * peak);
        // Labels of the outermost channels grow inwards instead of off the axis rect.
        const double where = static_cast<double>(c) / static_cast<double>(m_absmax.size());
        const Qt::Alignment h = where > 0.95   ? Qt::AlignRight
                                : where < 0.05 ? Qt::AlignLeft
                                               : Qt::AlignHCenter;
        text->setPositionAlignment(h | Qt::AlignBottom);
        text->setText(QString::number(c));
        text->setColor(m_isOutlier[static_cast<std::size_t>(c)]
                           ? paletteColor(PaletteColor::Vermillion).darker(130)
                           : QColor(60, 60, 60));
    }
}

QString ChannelAbsmaxView::figureName() const
{
    QString name = QStringLiteral("channel-absmax-%1-%2").arg(kindName(m_kind), m_stage);
    if (m_layer >= 0) name += QLatin1Char('-') + linearFigureSuffix(m_layer, m_module);
    return name;
}

QString ChannelAbsmaxView::figureCsv() const
{
    QString csv = QStringLiteral("stage,channel,absmax,is_outlier\n");
    for (std::size_t c = 0; c < m_absmax.size(); ++c) {
        csv += QStringLiteral("%1,%2,%3,%4\n")
                   .arg(csvField(m_stage))
                   .arg(c)
                   .arg(static_cast<double>(m_absmax[c]), 0, 'g', 9)
                   .arg(m_isOutlier[c] ? 1 : 0);
    }
    return csv;
}

void ChannelAbsmaxView::applyFigureStyle(const FigureStyle& style)
{
    m_style = style;
    applyLinearPlotStyle(m_plot, m_style);
    m_plot->replot();
}

}  // namespace qs::gui
