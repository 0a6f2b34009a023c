#include "widgets/model_tree.h"

#include <QHeaderView>
#include <QLocale>
#include <QTreeWidgetItemIterator>

#include "widgets/number_format.h"

namespace qs::gui {
namespace {

void setParameters(QTreeWidgetItem* item, std::int64_t count)
{
    item->setText(ModelTree::ParametersColumn, formatCount(count));
    item->setTextAlignment(ModelTree::ParametersColumn, Qt::AlignRight | Qt::AlignVCenter);
    // The exact number stays one hover away for anyone checking a count against a paper.
    item->setToolTip(
        ModelTree::ParametersColumn,
        QObject::tr("%1 parameters").arg(QLocale().toString(static_cast<qlonglong>(count))));
}

}  // namespace

ModelTree::ModelTree(QWidget* parent) : QTreeWidget(parent)
{
    setColumnCount(3);
    setHeaderLabels({tr("Module"), tr("Shape [out x in]"), tr("Parameters")});
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    setSelectionMode(QAbstractItemView::SingleSelection);
    header()->setStretchLastSection(false);
    header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    header()->setSectionResizeMode(ShapeColumn, QHeaderView::ResizeToContents);
    header()->setSectionResizeMode(ParametersColumn, QHeaderView::ResizeToContents);
    header()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    connect(this, &QTreeWidget::currentItemChanged, this,
            [this](QTreeWidgetItem* current) { onCurrentItemChanged(current); });
}

void ModelTree::setModel(const qs::ModelInfo& info, const QString& displayName)
{
    clearModel();
    auto* root = new QTreeWidgetItem(this);
    root->setText(NameColumn, QStringLiteral("%1 (%2)").arg(
                                  displayName, QString::fromStdString(info.config.model_type)));
    const auto layers = static_cast<int>(info.layers.size());
    root->setText(ShapeColumn, layers == 1 ? tr("1 layer") : tr("%1 layers").arg(layers));
    setParameters(root, info.total_parameters);
    root->setToolTip(NameColumn, QString::fromStdString(info.directory));
    QFont bold = root->font(NameColumn);
    bold.setBold(true);
    root->setFont(NameColumn, bold);

    for (const auto& layer : info.layers) {
        auto* layerItem = new QTreeWidgetItem(root);
        layerItem->setText(NameColumn, tr("Layer %1").arg(layer.index));
        setParameters(layerItem, layer.parameters);
        for (const auto& linear : layer.linears) {
            auto* item = new QTreeWidgetItem(layerItem);
            item->setText(NameColumn, QString::fromStdString(linear.name));
            item->setText(ShapeColumn, formatShape(linear.out_features, linear.in_features));
            setParameters(item, linear.parameters());
            const QString weight = QString::fromStdString(linear.weight_name);
            item->setData(NameColumn, WeightNameRole, weight);
            item->setToolTip(NameColumn, tr("%1 (%2%3)")
                                             .arg(weight, QString::fromStdString(linear.dtype),
                                                  linear.has_bias ? tr(", with bias") : QString()));
        }
    }
    // Layers expanded: the point of the tree is comparing the same module across layers.
    expandAll();
}

void ModelTree::clearModel()
{
    // clear() moves the current item through null; keep that from reaching listeners.
    const QSignalBlocker blocker(this);
    clear();
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

void ModelTree::onCurrentItemChanged(QTreeWidgetItem* current)
{
    if (!current) return;
    const QString weight = current->data(NameColumn, WeightNameRole).toString();
    if (!weight.isEmpty()) emit linearSelected(weight);
}

}  // namespace qs::gui
