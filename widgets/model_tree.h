// Left-hand view of the main window: the opened model as a tree of decoder layers and their
// linear modules (the tensors a PTQ method quantizes), with shapes and parameter counts. With a
// SessionModel attached, three badge columns rank every linear across the model (activation
// kurtosis, outlier channels, the selected experiment's output SQNR; widgets/linear_badges.h)
// and colour the problem layers; layer rows show the worst of their linears. The tree and the
// session's linear selection then follow each other.
#pragma once

#include <QPointer>
#include <QString>
#include <QTreeWidget>

#include "core/model/model_info.h"
#include "widgets/linear_badges.h"
#include "widgets/session_model.h"

namespace qs::gui {

class ModelTree : public QTreeWidget {
    Q_OBJECT

public:
    enum Column {
        NameColumn = 0,
        ShapeColumn = 1,
        ParametersColumn = 2,
        // Only with a session model (setSessionModel).
        KurtosisColumn = 3,
        OutliersColumn = 4,
        SqnrColumn = 5
    };
    // Item data role holding the checkpoint tensor name of a linear module.
    static constexpr int WeightNameRole = Qt::UserRole + 1;
    // Item data role holding the BadgeLevel (int) of a badge cell.
    static constexpr int BadgeLevelRole = Qt::UserRole + 2;

    explicit ModelTree(QWidget* parent = nullptr);

    void setModel(const qs::ModelInfo& info, const QString& displayName);
    // Builds the tree from the session's records when no model directory is at hand (a session
    // opened on its own): layers and linears with their shapes, weight names
    // "model.layers.N.<module>.weight". Returns false when the session has no linears.
    bool setModelFromSession(const QString& displayName);
    void clearModel();

    // Attaches the session whose badges the tree shows and whose linear selection it follows
    // (both ways); null detaches and hides the badge columns.
    void setSessionModel(SessionModel* model);
    SessionModel* sessionModel() const { return m_session; }
    const LinearBadges& badges() const { return m_badges; }

    int layerCount() const;
    // Selects (and so emits linearSelected for) the first linear of the first layer.
    bool selectFirstLinear();
    bool selectLinear(const QString& weightName);
    QTreeWidgetItem* findLinear(const QString& weightName) const;
    QTreeWidgetItem* findLinear(int layer, const QString& module) const;
    QTreeWidgetItem* layerItem(int layer) const;

    // "model.layers.4.mlp.down_proj.weight" -> (4, "mlp.down_proj"); false for other names.
    static bool parseWeightName(const QString& weightName, int* layer, QString* module);

signals:
    void linearSelected(const QString& weightName);

private:
    void onCurrentItemChanged(QTreeWidgetItem* current);
    void onSessionLinearSelected(int layer, const QString& module);
    // Shows the session's selected linear (after a rebuild or on attaching a session).
    void syncSessionSelection();
    void updateBadges();
    void setBadgeCell(QTreeWidgetItem* item, BadgeMetric metric, const Badge& badge,
                      const QString& worstModule);

    QPointer<SessionModel> m_session;
    LinearBadges m_badges;
};

}  // namespace qs::gui
