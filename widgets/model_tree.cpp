#include "widgets/model_tree.h"

#include <map>

#include <QHeaderView>
#include <QLocale>
#include <QRegularExpression>
#include <QTreeWidgetItemIterator>

#include "widgets/number_format.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

constexpr int k_layerRole = Qt::UserRole + 3;  // layer index on layer rows
constexpr BadgeMetric k_metrics[] = {BadgeMetric::ActivationKurtosis, BadgeMetric::OutlierChannels,
                                     BadgeMetric::OutputSqnr};

int columnOf(BadgeMetric metric)
{
    return ModelTree::KurtosisColumn + static_cast<int>(metric);
}

void setParameters(QTreeWidgetItem* item, std::int64_t count)
{
    item->setText(ModelTree::ParametersColumn, formatCount(count));
    item->setTextAlignment(ModelTree::ParametersColumn, Qt::AlignRight | Qt::AlignVCenter);
    // The exact number stays one hover away for anyone checking a count against a paper.
    item->setToolTip(
        ModelTree::ParametersColumn,
        QObject::tr("%1 parameters").arg(QLocale().toString(static_cast<qlonglong>(count))));
}

// The root row shows the model's name only (a narrow dock would elide "name (architecture)");
// the tooltip has the architecture and the folder.
QTreeWidgetItem* makeRoot(QTreeWidget* tree, const QString& name, const QString& architecture,
                          const QString& directory, int layers)
{
    auto* root = new QTreeWidgetItem(tree);
    root->setText(ModelTree::NameColumn, name);
    root->setText(ModelTree::ShapeColumn,
                  layers == 1 ? QObject::tr("1 layer") : QObject::tr("%1 layers").arg(layers));
    root->setToolTip(ModelTree::NameColumn, QStringLiteral("%1 (%2)").arg(directory, architecture));
    QFont bold = root->font(ModelTree::NameColumn);
    bold.setBold(true);
    root->setFont(ModelTree::NameColumn, bold);
    return root;
}

QTreeWidgetItem* makeLayer(QTreeWidgetItem* root, int index)
{
    auto* item = new QTreeWidgetItem(root);
    item->setText(ModelTree::NameColumn, QObject::tr("Layer %1").arg(index));
    item->setData(ModelTree::NameColumn, k_layerRole, index);
    return item;
}

QTreeWidgetItem* makeLinear(QTreeWidgetItem* layer, const QString& name, const QString& weight,
                            std::int64_t out, std::int64_t in)
{
    auto* item = new QTreeWidgetItem(layer);
    // "self_attn.q_proj" -> "q_proj": the layer row already groups them and the last part is
    // unique within a layer, so the names that tell modules apart stay visible in a narrow dock
    // (the tooltip keeps the full weight name).
    item->setText(ModelTree::NameColumn, name.section(QLatin1Char('.'), -1));
    item->setText(ModelTree::ShapeColumn, formatShape(out, in));
    item->setData(ModelTree::NameColumn, ModelTree::WeightNameRole, weight);
    return item;
}

}  // namespace

ModelTree::ModelTree(QWidget* parent) : QTreeWidget(parent)
{
    setColumnCount(3);
    setHeaderLabels({tr("Module"), tr("Shape [out x in]"), tr("Parameters")});
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    setSelectionMode(QAbstractItemView::SingleSelection);
    // Every column as wide as its contents: in a narrow dock the tree scrolls sideways rather
    // than eliding the module names to "..." (a stretched name column gives way first).
    header()->setStretchLastSection(true);
    header()->setSectionResizeMode(NameColumn, QHeaderView::ResizeToContents);
    header()->setSectionResizeMode(ShapeColumn, QHeaderView::ResizeToContents);
    header()->setSectionResizeMode(ParametersColumn, QHeaderView::ResizeToContents);
    header()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    // The model name of the root row keeps its end ("(llama)") when elided.
    setTextElideMode(Qt::ElideMiddle);
    connect(this, &QTreeWidget::currentItemChanged, this,
            [this](QTreeWidgetItem* current) { onCurrentItemChanged(current); });
}

void ModelTree::setModel(const qs::ModelInfo& info, const QString& displayName)
{
    clearModel();
    const auto layers = static_cast<int>(info.layers.size());
    auto* root = makeRoot(this, displayName, QString::fromStdString(info.config.model_type),
                          QString::fromStdString(info.directory), layers);
    setParameters(root, info.total_parameters);

    for (const auto& layer : info.layers) {
        auto* layerItem = makeLayer(root, layer.index);
        setParameters(layerItem, layer.parameters);
        for (const auto& linear : layer.linears) {
            const QString weight = QString::fromStdString(linear.weight_name);
            auto* item = makeLinear(layerItem, QString::fromStdString(linear.name), weight,
                                    linear.out_features, linear.in_features);
            setParameters(item, linear.parameters());
            item->setToolTip(NameColumn, tr("%1 (%2%3)")
                                             .arg(weight, QString::fromStdString(linear.dtype),
                                                  linear.has_bias ? tr(", with bias") : QString()));
        }
    }
    // Layers expanded: the point of the tree is comparing the same module across layers.
    expandAll();
    updateBadges();
    syncSessionSelection();
}

bool ModelTree::setModelFromSession(const QString& displayName)
{
    if (!m_session) return false;
    const qs::SessionData& data = m_session->data();
    const auto* records = &data.baseline;
    if (records->empty() && !data.experiments.empty()) records = &data.experiments.front().linears;
    if (records->empty()) return false;

    clearModel();
    std::map<int, std::vector<const qs::LinearRecord*>> byLayer;
    for (const auto& record : *records)
        byLayer[record.layer].push_back(&record);
    auto* root =
        makeRoot(this, displayName, QString::fromStdString(data.header.architecture),
                 QString::fromStdString(data.header.model_path), static_cast<int>(byLayer.size()));
    std::int64_t total = 0;
    for (const auto& [index, linears] : byLayer) {
        auto* layerItem = makeLayer(root, index);
        std::int64_t layerTotal = 0;
        for (const qs::LinearRecord* record : linears) {
            const QString module = QString::fromStdString(record->module);
            const QString weight =
                QStringLiteral("model.layers.%1.%2.weight").arg(index).arg(module);
            auto* item =
                makeLinear(layerItem, module, weight, record->out_features, record->in_features);
            const std::int64_t count = record->out_features * record->in_features;
            setParameters(item, count);
            item->setToolTip(NameColumn, weight);
            layerTotal += count;
        }
        // Only what the session recorded: the linear weights, not norms or embeddings.
        setParameters(layerItem, layerTotal);
        layerItem->setToolTip(ParametersColumn, tr("%1 linear weight parameters (from the session)")
                                                    .arg(QLocale().toString(layerTotal)));
        total += layerTotal;
    }
    setParameters(root, total);
    root->setToolTip(ParametersColumn, tr("%1 decoder linear weight parameters (from the session)")
                                           .arg(QLocale().toString(total)));
    expandAll();
    updateBadges();
    syncSessionSelection();
    return true;
}

void ModelTree::clearModel()
{
    // clear() moves the current item through null; keep that from reaching listeners.
    const QSignalBlocker blocker(this);
    clear();
}

void ModelTree::setSessionModel(SessionModel* model)
{
    if (m_session == model) return;
    if (m_session) disconnect(m_session, nullptr, this, nullptr);
    m_session = model;
    if (!m_session) {
        m_badges = {};
        setColumnCount(3);
        setHeaderLabels({tr("Module"), tr("Shape [out x in]"), tr("Parameters")});
        return;
    }
    setColumnCount(6);
    // Short headers leave the module names room in a narrow dock; the long forms are tooltips.
    headerItem()->setText(ShapeColumn, tr("Shape"));
    headerItem()->setToolTip(ShapeColumn, tr("Weight shape [out x in]"));
    headerItem()->setText(ParametersColumn, tr("Params"));
    headerItem()->setToolTip(ParametersColumn, tr("Parameters"));
    for (const BadgeMetric metric : k_metrics) {
        const int column = columnOf(metric);
        headerItem()->setText(column, LinearBadges::columnTitle(metric));
        headerItem()->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
        header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    }
    connect(m_session, &SessionModel::dataReset, this, &ModelTree::updateBadges);
    connect(m_session, &SessionModel::experimentsChanged, this, &ModelTree::updateBadges);
    connect(m_session, &SessionModel::experimentSelected, this, &ModelTree::updateBadges);
    connect(m_session, &SessionModel::linearSelected, this, &ModelTree::onSessionLinearSelected);
    updateBadges();
    syncSessionSelection();
}

void ModelTree::syncSessionSelection()
{
    if (m_session) onSessionLinearSelected(m_session->selectedLayer(), m_session->selectedModule());
}

void ModelTree::updateBadges()
{
    if (!m_session) return;
    m_badges =
        LinearBadges::compute(m_session->data(), m_session->selectedExperiment().toStdString());
    for (const BadgeMetric metric : k_metrics)
        headerItem()->setToolTip(columnOf(metric), m_badges.columnTooltip(metric));
    for (QTreeWidgetItemIterator it(this); *it; ++it) {
        QTreeWidgetItem* item = *it;
        const QVariant layer = item->data(NameColumn, k_layerRole);
        int linearLayer = -1;
        QString module;
        if (layer.isValid()) {
            const LinearBadge summary = m_badges.layerSummary(layer.toInt());
            setBadgeCell(
                item, BadgeMetric::ActivationKurtosis, summary.kurtosis,
                summary.kurtosisModule.isEmpty() ? QStringLiteral("-") : summary.kurtosisModule);
            setBadgeCell(
                item, BadgeMetric::OutlierChannels, summary.outliers,
                summary.outliersModule.isEmpty() ? QStringLiteral("-") : summary.outliersModule);
            setBadgeCell(item, BadgeMetric::OutputSqnr, summary.sqnr,
                         summary.sqnrModule.isEmpty() ? QStringLiteral("-") : summary.sqnrModule);
        } else if (parseWeightName(item->data(NameColumn, WeightNameRole).toString(), &linearLayer,
                                   &module)) {
            const LinearBadge* badge = m_badges.linear(linearLayer, module);
            for (const BadgeMetric metric : k_metrics)
                setBadgeCell(item, metric, badge ? badge->badge(metric) : Badge{}, {});
        }
    }
}

void ModelTree::setBadgeCell(QTreeWidgetItem* item, BadgeMetric metric, const Badge& badge,
                             const QString& worstModule)
{
    const int column = columnOf(metric);
    item->setText(column, LinearBadges::text(metric, badge));
    item->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
    item->setToolTip(column, m_badges.tooltip(metric, badge, worstModule));
    item->setData(column, BadgeLevelRole, static_cast<int>(badge.level));
    const QColor background = LinearBadges::background(badge.level);
    item->setBackground(column, background.isValid() ? QBrush(background) : QBrush());
    const QColor foreground = LinearBadges::foreground(badge.level);
    item->setForeground(column, foreground.isValid() ? QBrush(foreground) : QBrush());
}

int ModelTree::layerCount() const
{
    return topLevelItemCount() > 0 ? topLevelItem(0)->childCount() : 0;
}

bool ModelTree::selectFirstLinear()
{
    if (layerCount() == 0) return false;
    QTreeWidgetItem* firstLayer = topLevelItem(0)->child(0);
    if (firstLayer->childCount() == 0) return false;
    setCurrentItem(firstLayer->child(0));
    return true;
}

bool ModelTree::selectLinear(const QString& weightName)
{
    QTreeWidgetItem* item = findLinear(weightName);
    if (item) setCurrentItem(item);
    return item != nullptr;
}

QTreeWidgetItem* ModelTree::findLinear(const QString& weightName) const
{
    for (QTreeWidgetItemIterator it(const_cast<ModelTree*>(this)); *it; ++it) {
        if ((*it)->data(NameColumn, WeightNameRole).toString() == weightName) return *it;
    }
    return nullptr;
}

QTreeWidgetItem* ModelTree::findLinear(int layer, const QString& module) const
{
    QTreeWidgetItem* layerRow = layerItem(layer);
    for (int i = 0; layerRow && i < layerRow->childCount(); ++i) {
        int l = -1;
        QString m;
        QTreeWidgetItem* child = layerRow->child(i);
        if (parseWeightName(child->data(NameColumn, WeightNameRole).toString(), &l, &m) &&
            m == module)
            return child;
    }
    return nullptr;
}

QTreeWidgetItem* ModelTree::layerItem(int layer) const
{
    if (topLevelItemCount() == 0) return nullptr;
    QTreeWidgetItem* root = topLevelItem(0);
    for (int i = 0; i < root->childCount(); ++i) {
        const QVariant index = root->child(i)->data(NameColumn, k_layerRole);
        if (index.isValid() && index.toInt() == layer) return root->child(i);
    }
    return nullptr;
}

bool ModelTree::parseWeightName(const QString& weightName, int* layer, QString* module)
{
    // "<prefix>layers.<N>.<module>.weight" covers Llama/Mistral/Qwen ("model.layers") and
    // the other decoder stacks that name their blocks "layers".
    static const QRegularExpression k_pattern(
        QStringLiteral(R"((?:^|\.)layers\.(\d+)\.(.+)\.weight$)"));
    const QRegularExpressionMatch match = k_pattern.match(weightName);
    if (!match.hasMatch()) return false;
    if (layer) *layer = match.captured(1).toInt();
    if (module) *module = match.captured(2);
    return true;
}

void ModelTree::onCurrentItemChanged(QTreeWidgetItem* current)
{
    if (!current) return;
    const QString weight = current->data(NameColumn, WeightNameRole).toString();
    if (weight.isEmpty()) return;
    emit linearSelected(weight);
    int layer = -1;
    QString module;
    if (m_session && parseWeightName(weight, &layer, &module))
        m_session->selectLinear(layer, module);
}

void ModelTree::onSessionLinearSelected(int layer, const QString& module)
{
    QTreeWidgetItem* item = findLinear(layer, module);
    if (item && item != currentItem()) setCurrentItem(item);
}

}  // namespace qs::gui
