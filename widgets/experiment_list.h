// The session's experiments as a sortable table: recipe, layers, perplexity per dataset, size,
// bits per weight and whether the experiment is on the Pareto frontier of each dataset.
// Selecting a row selects the experiment everywhere (SessionModel); the context menu offers
// "compare with the selected experiment" and copying the recipe.
#pragma once

#include <QStringList>
#include <QTableWidget>

namespace qs::gui {

class SessionModel;

class ExperimentList : public QTableWidget {
    Q_OBJECT

public:
    explicit ExperimentList(SessionModel* model, QWidget* parent = nullptr);

    // Row of an experiment id, -1 when absent.
    int rowOf(const QString& id) const;
    QStringList datasets() const { return m_datasets; }

signals:
    // The user asked to load this experiment's recipe into the recipe builder.
    void recipeRequested(const QString& yaml);

private:
    void rebuild();
    void followSelection(const QString& id);
    void showContextMenu(const QPoint& position);

    SessionModel* m_model;
    QStringList m_datasets;
    bool m_updating = false;
};

}  // namespace qs::gui
