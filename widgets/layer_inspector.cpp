#include "widgets/layer_inspector.h"

#include <cmath>

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextDocument>
#include <QVBoxLayout>

#include "core/analysis/experiment_record.h"
#include "widgets/channel_absmax_view.h"
#include "widgets/gptq_error_view.h"
#include "widgets/histogram_view.h"
#include "widgets/linear_stages.h"
#include "widgets/number_format.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

QLabel* makeLabel(QWidget* parent, Qt::TextFormat format)
{
    auto* label = new QLabel(parent);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setTextFormat(format);
    label->setWordWrap(true);
    return label;
}

QString numberCell(const QString& name, const QString& value, const QString& tip)
{
    return QStringLiteral("<span title='%3'>%1&nbsp;<b>%2</b></span>")
        .arg(name.toHtmlEscaped(), value.toHtmlEscaped(), tip.toHtmlEscaped());
}

}  // namespace

LayerInspector::LayerInspector(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model)
{
    // Connected before the sub-views exist, so on a selection change this refill (which
    // refreshes them too) comes first and their own pending refills are dropped.
    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(0);
    connect(&m_refreshTimer, &QTimer::timeout, this, &LayerInspector::refresh);
    connect(m_model, &SessionModel::dataReset, this, &LayerInspector::scheduleRefresh);
    connect(m_model, &SessionModel::experimentsChanged, this, &LayerInspector::scheduleRefresh);
    connect(m_model, &SessionModel::experimentSelected, this, &LayerInspector::scheduleRefresh);
    connect(m_model, &SessionModel::linearSelected, this, &LayerInspector::scheduleRefresh);

    m_title = makeLabel(this, Qt::PlainText);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.25);
    m_title->setFont(titleFont);
    m_experiment = makeLabel(this, Qt::PlainText);
    m_numbers = makeLabel(this, Qt::RichText);

    m_binning = new QComboBox(this);
    m_binning->addItem(tr("value"), static_cast<int>(HistogramView::Binning::Linear));
    m_binning->addItem(tr("log10 |value|"), static_cast<int>(HistogramView::Binning::Log10Abs));
    m_binning->setToolTip(
        tr("Histogram bins over the values (range [min, max]) or over log10 "
           "of their magnitudes (small values and zeros apart)"));

    m_weights = new HistogramView(m_model, this);
    m_weights->setTensorKind(TensorKind::Weights);
    m_activations = new HistogramView(m_model, this);
    m_activations->setTensorKind(TensorKind::Activations);
    m_channels = new ChannelAbsmaxView(m_model, this);
    m_gptq = new GptqColumnErrorView(m_model, this);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Histogram bins:"), this));
    controls->addWidget(m_binning);
    controls->addStretch(1);

    auto* grid = new QGridLayout;
    grid->setSpacing(8);
    grid->addWidget(m_weights, 0, 0);
    grid->addWidget(m_activations, 0, 1);
    grid->addWidget(m_channels, 1, 0);
    grid->addWidget(m_gptq, 1, 1);
    grid->setRowStretch(0, 1);
    grid->setRowStretch(1, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addWidget(m_experiment);
    layout->addWidget(m_numbers);
    layout->addLayout(controls);
    layout->addLayout(grid, 1);

    connect(m_binning, &QComboBox::currentIndexChanged, this, [this] {
        const auto binning = static_cast<HistogramView::Binning>(m_binning->currentData().toInt());
        m_weights->setBinning(binning);
        m_activations->setBinning(binning);
    });
    refresh();
}

QList<FigureView*> LayerInspector::figureViews() const
{
    return {m_weights, m_activations, m_channels, m_gptq};
}

void LayerInspector::scheduleRefresh()
{
    m_refreshTimer.start();
}

void LayerInspector::refresh()
{
    m_refreshTimer.stop();
    updateTitle();
    updateNumbers();
    m_weights->refresh();
    m_activations->refresh();
    m_channels->refresh();
    m_gptq->refresh();
    // Announced one event-loop pass later: the new header texts have posted layout requests,
    // and a screenshot taken on shown() must see the laid-out panel, not the previous sizes.
    const int layer = m_model->selectedLayer();
    const QString module = layer >= 0 ? m_model->selectedModule() : QString();
    QMetaObject::invokeMethod(
        this, [this, layer, module] { emit shown(layer, module); }, Qt::QueuedConnection);
}

void LayerInspector::updateTitle()
{
    const int layer = m_model->selectedLayer();
    const QString module = m_model->selectedModule();
    const qs::LinearRecord* record = selectedLinearRecord(*m_model);
    if (layer < 0 || module.isEmpty()) {
        m_title->setText(tr("No linear selected"));
    } else {
        QString title = tr("Layer %1 · %2").arg(layer).arg(module);
        if (record)
            title += QStringLiteral(" · ") + formatShape(record->out_features, record->in_features);
        m_title->setText(title);
    }
    const qs::ExperimentRecord* experiment = m_model->currentExperiment();
    m_experiment->setText(experiment ? tr("Experiment: %1 (%2)")
                                           .arg(QString::fromStdString(experiment->name),
                                                QString::fromStdString(experiment->id))
                                     : tr("No experiment selected: baseline statistics only."));
}

void LayerInspector::updateNumbers()
{
    const qs::ExperimentRecord* experiment = m_model->currentExperiment();
    const int layer = m_model->selectedLayer();
    const QString module = m_model->selectedModule();
    const qs::LinearRecord* record =
        experiment ? m_model->experimentLinear(m_model->selectedExperiment(), layer, module)
                   : nullptr;
    if (!experiment || layer < 0) {
        m_numbers->clear();
        m_numbers->setVisible(false);
        return;
    }
    m_numbers->setVisible(true);
    if (!record || record->method.empty()) {
        m_numbers->setText(
            tr("This experiment left the linear in full precision.").toHtmlEscaped());
        return;
    }
    const double weights = static_cast<double>(record->out_features * record->in_features);
    const double bitsPerWeight =
        weights > 0 ? static_cast<double>(record->storage_bits) / weights : 0;
    const QStringList cells = {
        numberCell(tr("method"), QString::fromStdString(record->method).toUpper(),
                   tr("Quantizer used for this linear")),
        numberCell(tr("output SQNR"), tr("%1 dB").arg(record->output_sqnr_db, 0, 'f', 2),
                   tr("10 log10(sum y^2 / sum (y_q - y)^2) on the calibration inputs")),
        numberCell(tr("output cosine"), QString::number(record->output_cosine, 'f', 5),
                   tr("Mean over tokens of cos(y_q[t], y[t])")),
        numberCell(tr("rel. weight MSE"), formatValue(record->weight_relative_mse),
                   tr("||W_q - W||^2 / ||W||^2, W = the transformed full-precision weight")),
        numberCell(tr("storage"),
                   tr("%1 bits/weight (%2 B)")
                       .arg(bitsPerWeight, 0, 'f', 3)
                       .arg(formatCount((record->storage_bits + 7) / 8)),
                   tr("Weight storage in the recipe's format, scales and zero points included")),
    };
    m_numbers->setText(cells.join(QStringLiteral("&nbsp;&nbsp;·&nbsp;&nbsp;")));
}

QString LayerInspector::titleText() const
{
    return m_title->text();
}

QString LayerInspector::numbersText() const
{
    QTextDocument doc;
    doc.setHtml(m_numbers->text());
    return doc.toPlainText();
}

}  // namespace qs::gui
