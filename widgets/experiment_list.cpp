#include "widgets/experiment_list.h"

#include <cmath>
#include <map>

#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QMenu>

#include "core/analysis/pareto.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

constexpr int k_idRole = Qt::UserRole + 1;

// Numeric cells sort by value, not by their text.
class NumberItem : public QTableWidgetItem {
public:
    NumberItem(double value, const QString& text) : QTableWidgetItem(text)
    {
        setData(Qt::UserRole, value);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override
    {
        return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
    }
};

const qs::PerplexityRecord* findPerplexity(const qs::ExperimentRecord& e, const QString& dataset)
{
    for (const auto& p : e.perplexity)
        if (QString::fromStdString(p.dataset) == dataset) return &p;
    return nullptr;
}

QString layerText(const qs::ExperimentRecord& e, int numLayers)
{
    if (e.linears.empty()) return QObject::tr("none");
    int first = e.linears.front().layer, last = first, count = 0, previous = -1;
    for (const auto& linear : e.linears) {
        first = std::min(first, linear.layer);
        last = std::max(last, linear.layer);
        if (linear.layer != previous) ++count;
        previous = linear.layer;
    }
    if (count == numLayers) return QObject::tr("all");
    if (count == last - first + 1)
        return first == last ? QString::number(first)
                             : QStringLiteral("%1\u2013%2").arg(first).arg(last);
    return QObject::tr("%1 of %2\u2013%3").arg(count).arg(first).arg(last);
}

}  // namespace

ExperimentList::ExperimentList(SessionModel* model, QWidget* parent)
    : QTableWidget(parent), m_model(model)
{
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setAlternatingRowColors(true);
    setSortingEnabled(true);
    verticalHeader()->setVisible(false);
    horizontalHeader()->setStretchLastSection(true);
    setContextMenuPolicy(Qt::CustomContextMenu);
    connect(this, &QWidget::customContextMenuRequested, this, &ExperimentList::showContextMenu);
    connect(this, &QTableWidget::itemSelectionChanged, this, [this] {
        if (m_updating) return;
        const auto items = selectedItems();
        if (!items.isEmpty())
            m_model->selectExperiment(item(items.front()->row(), 0)->data(k_idRole).toString());
    });
    connect(m_model, &SessionModel::dataReset, this, &ExperimentList::rebuild);
    connect(m_model, &SessionModel::experimentsChanged, this, &ExperimentList::rebuild);
    connect(m_model, &SessionModel::experimentSelected, this, &ExperimentList::followSelection);
    rebuild();
}

int ExperimentList::rowOf(const QString& id) const
{
    for (int row = 0; row < rowCount(); ++row)
        if (item(row, 0)->data(k_idRole).toString() == id) return row;
    return -1;
}

void ExperimentList::rebuild()
{
    m_updating = true;
    setSortingEnabled(false);
    clear();
    const auto& experiments = m_model->data().experiments;
    m_datasets.clear();
    for (const auto& e : experiments)
        for (const auto& p : e.perplexity)
            if (!m_datasets.contains(QString::fromStdString(p.dataset)))
                m_datasets << QString::fromStdString(p.dataset);

    QStringList headers = {tr("Id"), tr("Recipe"), tr("Layers")};
    for (const auto& d : m_datasets)
        headers << tr("ppl %1").arg(d);
    headers << tr("Size (MB)") << tr("Bits/weight") << tr("Linear bits/w") << tr("Frontier");
    setColumnCount(headers.size());
    setHorizontalHeaderLabels(headers);
    setRowCount(static_cast<int>(experiments.size()));

    // Frontier membership per dataset, on (bytes, ppl) as `quantscope-cli report` computes it.
    std::map<QString, std::vector<bool>> frontier;
    for (const auto& d : m_datasets) {
        std::vector<double> size, ppl;
        for (const auto& e : experiments) {
            const auto* p = findPerplexity(e, d);
            size.push_back(double(e.size.bytes()));
            ppl.push_back(p ? p->ppl : std::nan(""));
        }
        frontier[d] = qs::pareto_frontier(size, ppl);
    }

    for (int row = 0; row < rowCount(); ++row) {
        const auto& e = experiments[row];
        auto* id = new QTableWidgetItem(QString::fromStdString(e.id));
        id->setData(k_idRole, QString::fromStdString(e.id));
        id->setToolTip(QString::fromStdString(e.recipe_yaml));
        setItem(row, 0, id);
        auto* name = new QTableWidgetItem(QString::fromStdString(e.name));
        name->setToolTip(QString::fromStdString(e.recipe_yaml));
        setItem(row, 1, name);
        setItem(row, 2, new QTableWidgetItem(layerText(e, m_model->numLayers())));
        int column = 3;
        QStringList onFrontier;
        for (const auto& d : m_datasets) {
            const auto* p = findPerplexity(e, d);
            const double value = p ? p->ppl : std::nan("");
            setItem(row, column++, new NumberItem(value, p ? QString::number(value, 'f', 2) : "-"));
            if (frontier[d][row]) onFrontier << d;
        }
        setItem(
            row, column++,
            new NumberItem(e.size.bytes() / 1e6, QString::number(e.size.bytes() / 1e6, 'f', 4)));
        setItem(row, column++,
                new NumberItem(e.size.bits_per_weight(),
                               QString::number(e.size.bits_per_weight(), 'f', 3)));
        setItem(row, column++,
                new NumberItem(e.size.linear_bits_per_weight(),
                               QString::number(e.size.linear_bits_per_weight(), 'f', 3)));
        auto* mark = new QTableWidgetItem(
            onFrontier.isEmpty() ? QString() : QStringLiteral("\u2605 ") + onFrontier.join(", "));
        mark->setToolTip(tr("On the Pareto frontier (size vs perplexity) of: %1")
                             .arg(onFrontier.isEmpty() ? tr("no dataset") : onFrontier.join(", ")));
        setItem(row, column, mark);
    }
    resizeColumnsToContents();
    setSortingEnabled(true);
    m_updating = false;
    followSelection(m_model->selectedExperiment());
}

void ExperimentList::followSelection(const QString& id)
{
    m_updating = true;
    const int row = rowOf(id);
    if (row < 0) {
        clearSelection();
    } else {
        selectRow(row);
        scrollToItem(item(row, 0));
    }
    m_updating = false;
}

void ExperimentList::showContextMenu(const QPoint& position)
{
    const QTableWidgetItem* clicked = itemAt(position);
    if (!clicked) return;
    const QString id = item(clicked->row(), 0)->data(k_idRole).toString();
    const auto* e = m_model->experiment(id);
    if (!e) return;
    QMenu menu(this);
    menu.addAction(tr("Select"), this, [this, id] { m_model->selectExperiment(id); });
    QAction* compare = menu.addAction(tr("Compare with the selected experiment"), this,
                                      [this, id] { m_model->selectComparedExperiment(id); });
    compare->setEnabled(!m_model->selectedExperiment().isEmpty() &&
                        m_model->selectedExperiment() != id);
    menu.addSeparator();
    const QString yaml = QString::fromStdString(e->recipe_yaml);
    menu.addAction(tr("Load recipe into the builder"), this,
                   [this, yaml] { emit recipeRequested(yaml); });
    menu.addAction(tr("Copy recipe YAML"), this,
                   [yaml] { QApplication::clipboard()->setText(yaml); });
    menu.exec(viewport()->mapToGlobal(position));
}

}  // namespace qs::gui
