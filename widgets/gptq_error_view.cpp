#include "widgets/gptq_error_view.h"

#include <algorithm>
#include <numeric>

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "core/analysis/experiment_record.h"
#include "widgets/figure_style.h"
#include "widgets/linear_plot.h"
#include "widgets/linear_stages.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

const QColor k_groupShade(0, 0, 0, 18);
const QColor k_boundaryColor(90, 90, 90);
}  // namespace

GptqColumnErrorView::GptqColumnErrorView(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model)
{
    m_orderBox = new QCheckBox(tr("processing order (act-order)"), this);
    m_orderBox->setToolTip(
        tr("Plot the columns in the order GPTQ quantized them (act-order: "
           "descending Hessian diagonal) instead of the original order"));
    m_hessianBox = new QCheckBox(tr("Hessian diagonal"), this);
    m_hessianBox->setToolTip(
        tr("Overlay diag(H) = 2/N sum x^2 per input column on a log axis at "
           "the right; act-order quantizes large diag(H) first"));
    auto* controls = new QHBoxLayout;
    controls->setContentsMargins(0, 0, 0, 0);
    controls->addWidget(m_orderBox);
    controls->addWidget(m_hessianBox);
    controls->addStretch(1);

    m_plot = makeLinearPlot(this);
    m_plot->yAxis->setLabel(tr("error (sum over rows, log)"));
    setLogScale(m_plot->yAxis);
    setLogScale(m_plot->yAxis2);
    m_plot->yAxis2->setLabel(tr("Hessian diagonal (log)"));
    m_plot->yAxis2->grid()->setVisible(false);
    m_plot->yAxis2->grid()->setSubGridVisible(false);

    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setPen(QPen(paletteColor(PaletteColor::Blue), 0));
    m_bars->setBrush(paletteColor(PaletteColor::Blue));
    m_bars->setAntialiased(false);
    m_bars->setName(tr("column error"));
    m_hessian = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis2);
    m_hessian->setPen(figurePen(paletteColor(PaletteColor::Purple), FigureStrokes::data));
    m_hessian->setName(tr("Hessian diagonal"));

    m_placeholder = new QLabel(this);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setMargin(16);
    m_placeholder->setStyleSheet(QStringLiteral("color: #505050;"));
    m_placeholder->setTextFormat(Qt::PlainText);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_plot);
    m_stack->addWidget(m_placeholder);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(controls);
    layout->addWidget(m_stack, 1);

    connect(m_orderBox, &QCheckBox::toggled, this, &GptqColumnErrorView::setProcessingOrder);
    connect(m_hessianBox, &QCheckBox::toggled, this, &GptqColumnErrorView::setHessianVisible);
    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(0);
    connect(&m_refreshTimer, &QTimer::timeout, this, &GptqColumnErrorView::refresh);
    for (auto signal : {&SessionModel::dataReset, &SessionModel::experimentsChanged})
        connect(m_model, signal, this, &GptqColumnErrorView::scheduleRefresh);
    connect(m_model, &SessionModel::experimentSelected, this,
            &GptqColumnErrorView::scheduleRefresh);
    connect(m_model, &SessionModel::linearSelected, this, &GptqColumnErrorView::scheduleRefresh);
    refresh();
}

QCustomPlot* GptqColumnErrorView::figurePlot() const
{
    return m_plot;
}

void GptqColumnErrorView::setProcessingOrder(bool on)
{
    if (on == m_processingOrder) return;
    m_processingOrder = on;
    const QSignalBlocker blocker(m_orderBox);
    m_orderBox->setChecked(on);
    replot();
}

void GptqColumnErrorView::setHessianVisible(bool on)
{
    if (on == m_hessianVisible) return;
    m_hessianVisible = on;
    const QSignalBlocker blocker(m_hessianBox);
    m_hessianBox->setChecked(on);
    replot();
}

void GptqColumnErrorView::scheduleRefresh()
{
    m_refreshTimer.start();
}

bool GptqColumnErrorView::showsPlaceholder() const
{
    return m_stack->currentWidget() == m_placeholder;
}

QString GptqColumnErrorView::placeholderText() const
{
    return showsPlaceholder() ? m_placeholder->text() : QString();
}

void GptqColumnErrorView::showPlaceholder(const QString& text)
{
    m_error.clear();
    m_perm.clear();
    m_gIdx.clear();
    m_hessianDiag.clear();
    m_order.clear();
    m_boundaries.clear();
    m_interleaved = false;
    m_placeholder->setText(text);
    m_stack->setCurrentWidget(m_placeholder);
    m_orderBox->setEnabled(false);
    m_hessianBox->setEnabled(false);
    m_bars->data()->clear();
    m_hessian->data()->clear();
    m_plot->clearItems();
}

void GptqColumnErrorView::refresh()
{
    m_refreshTimer.stop();
    m_layer = m_model->selectedLayer();
    m_module = m_model->selectedModule();
    const qs::ExperimentRecord* experiment = m_model->currentExperiment();
    const QString linear = QStringLiteral("L%1 %2").arg(m_layer).arg(m_module);
    if (m_layer < 0 || m_module.isEmpty())
        return showPlaceholder(tr("Select a linear module to see GPTQ's per-column error."));
    if (!experiment)
        return showPlaceholder(tr("Select a GPTQ experiment to see its per-column error."));
    const QString name = QString::fromStdString(experiment->name);
    const auto* record =
        m_model->experimentLinear(m_model->selectedExperiment(), m_layer, m_module);
    if (!record)
        return showPlaceholder(tr("Experiment \"%1\" did not quantize %2.").arg(name, linear));
    if (record->gptq_column_error.empty()) {
        const QString method = record->method.empty()
                                   ? tr("without quantizing it")
                                   : tr("with %1").arg(QString::fromStdString(record->method));
        return showPlaceholder(tr("Experiment \"%1\" processed %2 %3: per-column errors exist only "
                                  "for GPTQ. Select a GPTQ experiment.")
                                   .arg(name, linear, method));
    }
    m_error = record->gptq_column_error;
    const auto cols = m_error.size();
    m_perm = record->gptq_perm.size() == cols ? record->gptq_perm : std::vector<std::int64_t>{};
    m_gIdx = record->gptq_g_idx.size() == cols ? record->gptq_g_idx : std::vector<std::int32_t>{};
    m_hessianDiag =
        record->hessian_diag.size() == cols ? record->hessian_diag : std::vector<float>{};
    m_groupSize = record->group_size;
    m_stack->setCurrentWidget(m_plot);
    m_orderBox->setEnabled(!m_perm.empty());
    m_orderBox->setToolTip(m_perm.empty() ? tr("This linear was quantized without act-order: "
                                               "processing order = original order")
                                          : tr("Plot the columns in the order GPTQ quantized "
                                               "them (act-order: descending Hessian diagonal)"));
    m_hessianBox->setEnabled(!m_hessianDiag.empty());
    replot();
}

int GptqColumnErrorView::groupOf(std::int64_t column) const
{
    if (!m_gIdx.empty()) return m_gIdx[static_cast<std::size_t>(column)];
    return m_groupSize > 0 ? static_cast<int>(column / m_groupSize) : 0;
}

void GptqColumnErrorView::replot()
{
    if (m_error.empty()) {
        m_plot->replot();
        return;
    }
    const auto cols = static_cast<std::int64_t>(m_error.size());
    const bool processing = m_processingOrder && !m_perm.empty();
    m_order.resize(static_cast<std::size_t>(cols));
    if (processing)
        m_order = m_perm;
    else
        std::iota(m_order.begin(), m_order.end(), std::int64_t{0});

    // Zero errors (dead columns) have no place on the log axis: left out, not drawn as 0.
    QVector<double> keys, values;
    double lo = 0, hi = 0;
    for (std::int64_t p = 0; p < cols; ++p) {
        const double e = m_error[static_cast<std::size_t>(m_order[static_cast<std::size_t>(p)])];
        if (!(e > 0)) continue;
        keys.append(static_cast<double>(p));
        values.append(e);
        lo = lo > 0 ? std::min(lo, e) : e;
        hi = std::max(hi, e);
    }
    m_bars->setWidth(cols <= 256 ? 0.8 : 1.0);
    m_bars->setBaseValue(lo > 0 ? lo / 4 : 1e-12);
    m_bars->setData(keys, values, /*alreadySorted=*/true);
    m_plot->xAxis->setRange(-0.5, static_cast<double>(cols) - 0.5);
    m_plot->xAxis->setLabel(processing ? tr("processing position (act-order)")
                                       : tr("input column (original order)"));
    if (hi > 0) m_plot->yAxis->setRange(lo / 4, hi * 4);

    m_hessian->data()->clear();
    const bool hessian = m_hessianVisible && !m_hessianDiag.empty();
    if (hessian) {
        QVector<double> hk, hv;
        for (std::int64_t p = 0; p < cols; ++p) {
            const double h =
                m_hessianDiag[static_cast<std::size_t>(m_order[static_cast<std::size_t>(p)])];
            if (!(h > 0)) continue;
            hk.append(static_cast<double>(p));
            hv.append(h);
        }
        m_hessian->setData(hk, hv, /*alreadySorted=*/true);
        if (!hv.isEmpty()) {
            const auto [mn, mx] = std::minmax_element(hv.begin(), hv.end());
            m_plot->yAxis2->setRange(*mn / 2, *mx * 2);
        }
    }
    m_hessian->setVisible(hessian);
    m_plot->yAxis2->setVisible(hessian);

    QString title = tr("GPTQ column error · %1").arg(linearShortName(m_layer, m_module));
    if (m_groupSize > 0) title += tr(" · g%1").arg(m_groupSize);
    setLinearPlotTitle(m_plot, title);
    drawGroups();
    applyStyle();
    m_plot->replot();
}

void GptqColumnErrorView::drawGroups()
{
    m_plot->clearItems();
    m_boundaries.clear();
    m_interleaved = false;
    const auto cols = static_cast<int>(m_order.size());
    for (int p = 1; p < cols; ++p) {
        if (groupOf(m_order[static_cast<std::size_t>(p)]) !=
            groupOf(m_order[static_cast<std::size_t>(p - 1)]))
            m_boundaries.append(p);
    }
    // Contiguous groups change exactly (groups - 1) times; more changes mean the groups
    // interleave (act-order columns in original order), and lines would only paint it grey.
    QVector<int> groups;
    for (const std::int64_t c : m_order)
        groups.append(groupOf(c));
    std::sort(groups.begin(), groups.end());
    const auto distinct = std::unique(groups.begin(), groups.end()) - groups.begin();
    if (m_boundaries.size() > distinct - 1) {
        m_boundaries.clear();
        m_interleaved = true;
        auto* note = new QCPItemText(m_plot);
        note->position->setType(QCPItemPosition::ptAxisRectRatio);
        note->position->setCoords(0.01, 0.01);
        note->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        note->setText(
            tr("act-order: groups interleave in original order;\n"
               "tick \"processing order\" to see them"));
        note->setTextAlignment(Qt::AlignLeft);
        note->setBrush(QColor(255, 255, 255, 220));
        return;
    }
    // Every other group shaded on the grid layer (under the bars), a dotted line where a new
    // group starts: the error typically climbs within a group as GPTQ pushes it forward.
    QVector<int> starts = {0};
    starts += m_boundaries;
    starts.append(cols);
    for (int g = 0; g + 1 < starts.size(); ++g) {
        if (g % 2 == 1) {
            auto* shade = new QCPItemRect(m_plot);
            shade->setLayer(QStringLiteral("grid"));
            shade->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
            shade->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
            shade->topLeft->setCoords(starts[g] - 0.5, 0);
            shade->bottomRight->setCoords(starts[g + 1] - 0.5, 1);
            shade->setPen(Qt::NoPen);
            shade->setBrush(k_groupShade);
        }
        if (g > 0) {
            auto* line = new QCPItemStraightLine(m_plot);
            line->point1->setCoords(starts[g] - 0.5, 1);
            line->point2->setCoords(starts[g] - 0.5, 2);
            line->setPen(figurePen(k_boundaryColor, FigureStrokes::axis, Qt::DotLine));
        }
    }
}

void GptqColumnErrorView::applyStyle()
{
    applyLinearPlotStyle(m_plot, m_style);
    // The right axis in the colour of its curve: two value axes must not be confused.
    const QColor hessian = paletteColor(PaletteColor::Purple).darker(140);
    m_plot->yAxis2->setLabelColor(hessian);
    m_plot->yAxis2->setTickLabelColor(hessian);
    m_plot->yAxis2->grid()->setVisible(false);
    m_plot->yAxis2->grid()->setSubGridVisible(false);
}

QString GptqColumnErrorView::figureName() const
{
    QString name = QStringLiteral("gptq-column-error");
    if (m_processingOrder && !m_perm.empty()) name += QStringLiteral("-act-order");
    if (m_layer >= 0) name += QLatin1Char('-') + linearFigureSuffix(m_layer, m_module);
    return name;
}

QString GptqColumnErrorView::figureCsv() const
{
    QString csv = QStringLiteral("column,processing_position,group,error,hessian_diag\n");
    // Position of each column in GPTQ's processing order (identity without act-order).
    std::vector<std::int64_t> position(m_error.size());
    std::iota(position.begin(), position.end(), std::int64_t{0});
    for (std::size_t p = 0; p < m_perm.size(); ++p)
        position[static_cast<std::size_t>(m_perm[p])] = static_cast<std::int64_t>(p);
    for (const std::int64_t c : m_order) {
        const auto i = static_cast<std::size_t>(c);
        csv +=
            QStringLiteral("%1,%2,%3,%4,%5\n")
                .arg(c)
                .arg(position[i])
                .arg(groupOf(c))
                .arg(static_cast<double>(m_error[i]), 0, 'g', 9)
                .arg(m_hessianDiag.empty() ? QString() : QString::number(m_hessianDiag[i], 'g', 9));
    }
    return csv;
}

void GptqColumnErrorView::applyFigureStyle(const FigureStyle& style)
{
    m_style = style;
    applyStyle();
    m_plot->replot();
}

}  // namespace qs::gui
