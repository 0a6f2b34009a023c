#include "widgets/compare_view.h"

#include <cmath>
#include <map>
#include <utility>

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "widgets/figure_style.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

const QColor k_colorA(0x00, 0x72, 0xB2);  // Okabe-Ito blue
const QColor k_colorB(0xE6, 0x9F, 0x00);  // Okabe-Ito orange

using LinearKey = std::pair<int, std::string>;

std::map<LinearKey, double> sqnrByLinear(const qs::ExperimentRecord* e)
{
    std::map<LinearKey, double> out;
    if (!e) return out;
    for (const auto& linear : e->linears)
        if (!linear.method.empty()) out[{linear.layer, linear.module}] = linear.output_sqnr_db;
    return out;
}

// Linears of either experiment in model order: by layer, then as the modules occur in a layer.
std::vector<LinearKey> unionInModelOrder(const std::map<LinearKey, double>& a,
                                         const std::map<LinearKey, double>& b,
                                         const QStringList& modules)
{
    std::map<std::pair<int, int>, LinearKey> ordered;
    for (const auto* values : {&a, &b})
        for (const auto& [key, v] : *values)
            ordered[{key.first, int(modules.indexOf(QString::fromStdString(key.second)))}] = key;
    std::vector<LinearKey> keys;
    for (const auto& [rank, key] : ordered)
        keys.push_back(key);
    return keys;
}

QString shortModule(const std::string& module)
{
    const auto dot = module.rfind('.');
    QString name =
        QString::fromStdString(dot == std::string::npos ? module : module.substr(dot + 1));
    return name.endsWith(QLatin1String("_proj")) ? name.chopped(5) : name;
}

double meanSqnr(const qs::ExperimentRecord* e)
{
    const auto values = sqnrByLinear(e);
    if (values.empty()) return std::nan("");
    double sum = 0;
    for (const auto& [key, v] : values)
        sum += v;
    return sum / double(values.size());
}

QString number(double value, int decimals)
{
    return std::isfinite(value) ? QString::number(value, 'f', decimals) : QStringLiteral("-");
}

}  // namespace

CompareView::CompareView(SessionModel* model, QWidget* parent) : QWidget(parent), m_model(model)
{
    m_first = new QComboBox(this);
    m_second = new QComboBox(this);
    for (auto* combo : {m_first, m_second}) {
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(24);
    }
    auto* chooser = new QHBoxLayout;
    chooser->addWidget(new QLabel(tr("A:"), this));
    chooser->addWidget(m_first, 1);
    chooser->addSpacing(12);
    chooser->addWidget(new QLabel(tr("B:"), this));
    chooser->addWidget(m_second, 1);

    m_table = new QTableWidget(this);
    m_table->setColumnCount(3);
    m_table->setHorizontalHeaderLabels({tr("A"), tr("B"), tr("B \u2212 A")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->setAlternatingRowColors(true);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumHeight(220);
    m_plot->yAxis->setLabel(tr("output SQNR (dB), higher is better"));
    m_plot->xAxis->setLabel(tr("linear (layer.module)"));
    m_plot->legend->setVisible(true);
    placeLegendAbove(m_plot);
    applyPlotStyle(m_plot, FigureStyle::fromPreset(QStringLiteral("screen")));

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_table);
    splitter->addWidget(m_plot);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({280, 420});
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(chooser);
    layout->addWidget(splitter, 1);

    connect(m_first, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_updating) m_model->selectExperiment(m_first->currentData().toString());
    });
    connect(m_second, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_updating) m_model->selectComparedExperiment(m_second->currentData().toString());
    });
    connect(m_model, &SessionModel::dataReset, this, &CompareView::rebuildChoices);
    connect(m_model, &SessionModel::experimentsChanged, this, &CompareView::rebuildChoices);
    connect(m_model, &SessionModel::experimentSelected, this, &CompareView::refresh);
    connect(m_model, &SessionModel::comparedExperimentSelected, this, &CompareView::refresh);
    rebuildChoices();
}

void CompareView::rebuildChoices()
{
    m_updating = true;
    for (auto* combo : {m_first, m_second}) {
        combo->clear();
        combo->addItem(tr("(none)"), QString());
        for (const auto& e : m_model->data().experiments)
            combo->addItem(QStringLiteral("%1  %2").arg(QString::fromStdString(e.id),
                                                        QString::fromStdString(e.name)),
                           QString::fromStdString(e.id));
    }
    m_updating = false;
    refresh();
}

bool CompareView::hasFigure() const
{
    return m_model->currentExperiment() || m_model->experiment(m_model->comparedExperiment());
}

void CompareView::refresh()
{
    m_updating = true;
    m_first->setCurrentIndex(std::max(0, m_first->findData(m_model->selectedExperiment())));
    m_second->setCurrentIndex(std::max(0, m_second->findData(m_model->comparedExperiment())));
    m_updating = false;
    const auto* a = m_model->currentExperiment();
    const auto* b = m_model->experiment(m_model->comparedExperiment());
    fillTable(a, b);
    fillPlot(a, b);
}

void CompareView::fillTable(const qs::ExperimentRecord* a, const qs::ExperimentRecord* b)
{
    struct Row {
        QString label;
        double va, vb;
        int decimals;
        QString ta, tb;  // text rows (no difference)
    };
    std::vector<Row> rows;
    auto text = [](const qs::ExperimentRecord* e, auto get) {
        return e ? get(*e) : QStringLiteral("-");
    };
    auto value = [](const qs::ExperimentRecord* e, auto get) {
        return e ? double(get(*e)) : std::nan("");
    };
    rows.push_back({tr("Recipe"), 0, 0, -1,
                    text(a, [](const auto& e) { return QString::fromStdString(e.name); }),
                    text(b, [](const auto& e) { return QString::fromStdString(e.name); })});
    QStringList datasets;
    for (const auto* e : {a, b})
        if (e)
            for (const auto& p : e->perplexity)
                if (!datasets.contains(QString::fromStdString(p.dataset)))
                    datasets << QString::fromStdString(p.dataset);
    for (const auto& d : datasets) {
        auto ppl = [d](const qs::ExperimentRecord& e) {
            for (const auto& p : e.perplexity)
                if (QString::fromStdString(p.dataset) == d) return p.ppl;
            return std::nan("");
        };
        rows.push_back({tr("Perplexity (%1)").arg(d), value(a, ppl), value(b, ppl), 3});
    }
    auto megabytes = [](const auto& e) { return e.size.bytes() / 1e6; };
    auto bits = [](const auto& e) { return e.size.bits_per_weight(); };
    auto linearBits = [](const auto& e) { return e.size.linear_bits_per_weight(); };
    auto seconds = [](const auto& e) { return e.quantize_seconds; };
    rows.push_back({tr("Size (MB)"), value(a, megabytes), value(b, megabytes), 4});
    rows.push_back({tr("Bits per weight (all)"), value(a, bits), value(b, bits), 3});
    rows.push_back(
        {tr("Bits per weight (linears)"), value(a, linearBits), value(b, linearBits), 3});
    rows.push_back({tr("Mean output SQNR (dB)"), meanSqnr(a), meanSqnr(b), 2});
    auto lastCosine = [](const auto& e) {
        return e.depth.cosine.empty() ? std::nan("") : e.depth.cosine.back();
    };
    rows.push_back(
        {tr("Hidden cosine, last layer"), value(a, lastCosine), value(b, lastCosine), 4});
    rows.push_back({tr("Quantization time (s)"), value(a, seconds), value(b, seconds), 1});

    m_table->setRowCount(static_cast<int>(rows.size()));
    QStringList labels;
    for (int r = 0; r < int(rows.size()); ++r) {
        const Row& row = rows[r];
        labels << row.label;
        const bool isText = row.decimals < 0;
        m_table->setItem(r, 0,
                         new QTableWidgetItem(isText ? row.ta : number(row.va, row.decimals)));
        m_table->setItem(r, 1,
                         new QTableWidgetItem(isText ? row.tb : number(row.vb, row.decimals)));
        m_table->setItem(
            r, 2, new QTableWidgetItem(isText ? QString() : number(row.vb - row.va, row.decimals)));
        for (int c = isText ? 3 : 0; c < 3; ++c)
            m_table->item(r, c)->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    m_table->setVerticalHeaderLabels(labels);
}

void CompareView::fillPlot(const qs::ExperimentRecord* a, const qs::ExperimentRecord* b)
{
    m_plot->clearPlottables();
    const auto sa = sqnrByLinear(a), sb = sqnrByLinear(b);
    const std::vector<LinearKey> keys = unionInModelOrder(sa, sb, m_model->moduleNames());
    std::map<LinearKey, int> position;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    int x = 0;
    for (const auto& key : keys) {
        position[key] = x;
        ticker->addTick(x, QStringLiteral("%1.%2").arg(key.first).arg(shortModule(key.second)));
        ++x;
    }
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setTickLabelRotation(position.size() > 12 ? 60 : 0);
    auto* group = new QCPBarsGroup(m_plot);
    auto addBars = [&](const std::map<LinearKey, double>& values, const qs::ExperimentRecord* e,
                       const QColor& color, const QString& tag) {
        if (!e) return;
        auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
        bars->setName(QStringLiteral("%1: %2").arg(tag, QString::fromStdString(e->name)));
        bars->setPen(Qt::NoPen);
        bars->setBrush(color);
        bars->setWidth(0.4);
        bars->setBarsGroup(group);
        for (const auto& [key, v] : values)
            bars->addData(position[key], v);
    };
    addBars(sa, a, k_colorA, QStringLiteral("A"));
    addBars(sb, b, k_colorB, QStringLiteral("B"));
    m_plot->xAxis->setRange(-0.7, std::max(1, x) - 0.3);
    m_plot->yAxis->rescale();
    QCPRange range = m_plot->yAxis->range();
    m_plot->yAxis->setRange(std::min(0.0, range.lower), range.upper * 1.15 + 1e-9);
    m_plot->legend->setVisible(m_plot->plottableCount() > 0);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString CompareView::figureCsv() const
{
    const auto* a = m_model->currentExperiment();
    const auto* b = m_model->experiment(m_model->comparedExperiment());
    const auto sa = sqnrByLinear(a), sb = sqnrByLinear(b);
    QString csv = QStringLiteral("layer,module,experiment_a,experiment_b,sqnr_db_a,sqnr_db_b\n");
    const QString ida = a ? QString::fromStdString(a->id) : QString();
    const QString idb = b ? QString::fromStdString(b->id) : QString();
    auto value = [](const std::map<LinearKey, double>& values, const LinearKey& key) {
        const auto it = values.find(key);
        return it == values.end() ? QString() : QString::number(it->second, 'g', 8);
    };
    for (const auto& key : unionInModelOrder(sa, sb, m_model->moduleNames()))
        csv +=
            QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                .arg(key.first)
                .arg(QString::fromStdString(key.second), ida, idb, value(sa, key), value(sb, key));
    return csv;
}

void CompareView::applyFigureStyle(const FigureStyle& style)
{
    applyPlotStyle(m_plot, style);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qs::gui
