// Left-hand view of the main window: the opened model as a tree of decoder layers and their
// linear modules (the tensors a PTQ method quantizes), with shapes and parameter counts.
#pragma once

#include <QString>
#include <QTreeWidget>

#include "core/model/model_info.h"

namespace qs::gui {

class ModelTree : public QTreeWidget {
    Q_OBJECT

public:
    enum Column { NameColumn = 0, ShapeColumn = 1, ParametersColumn = 2 };
    // Item data role holding the checkpoint tensor name of a linear module.
    static constexpr int WeightNameRole = Qt::UserRole + 1;

    explicit ModelTree(QWidget* parent = nullptr);

    void setModel(const qs::ModelInfo& info, const QString& displayName);
    void clearModel();

    int layerCount() const;
    // Selects (and so emits linearSelected for) the first linear of the first layer.
    bool selectFirstLinear();
    bool selectLinear(const QString& weightName);
    QTreeWidgetItem* findLinear(const QString& weightName) const;

signals:
    void linearSelected(const QString& weightName);

private:
    void onCurrentItemChanged(QTreeWidgetItem* current);
};

}  // namespace qs::gui
