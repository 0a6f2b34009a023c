// The open study as the views see it: the session's records (core/analysis/experiment_record.h)
// plus the current selection, shared by every view of the main window. Selecting an experiment
// or a linear anywhere (Pareto point, tree, experiment list) goes through here, and every view
// follows the signals, so "clicking selects that experiment everywhere" holds by construction.
// GUI thread only.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include "core/analysis/experiment_record.h"

namespace qs::gui {

class SessionModel : public QObject {
    Q_OBJECT

public:
    explicit SessionModel(QObject* parent = nullptr);

    // Replaces everything; keeps the selection when the same ids and linears still exist.
    void setData(qs::SessionData data, const QString& path = {});
    void clear();
    // One more experiment (appended by a finished job); emits experimentsChanged.
    void addExperiment(qs::ExperimentRecord experiment);
    void setBaseline(std::vector<qs::LinearRecord> baseline);

    const qs::SessionData& data() const { return m_data; }
    QString path() const { return m_path; }
    void setPath(const QString& path) { m_path = path; }
    bool isEmpty() const { return m_data.header.num_layers == 0; }
    int numLayers() const { return m_data.header.num_layers; }
    // Module names in the order they occur in a layer ("self_attn.q_proj", ...).
    QStringList moduleNames() const;

    const qs::ExperimentRecord* experiment(const QString& id) const;
    const qs::LinearRecord* baselineLinear(int layer, const QString& module) const;
    const qs::LinearRecord* experimentLinear(const QString& id, int layer,
                                             const QString& module) const;

    // Selection. An empty experiment id means "no experiment" (baseline only).
    QString selectedExperiment() const { return m_experiment; }
    QString comparedExperiment() const { return m_compared; }
    int selectedLayer() const { return m_layer; }
    QString selectedModule() const { return m_module; }
    const qs::ExperimentRecord* currentExperiment() const { return experiment(m_experiment); }

public slots:
    void selectExperiment(const QString& id);
    void selectComparedExperiment(const QString& id);
    void selectLinear(int layer, const QString& module);

signals:
    void dataReset();  // new session or new baseline: every view redraws
    void experimentsChanged();
    void experimentSelected(const QString& id);
    void comparedExperimentSelected(const QString& id);
    void linearSelected(int layer, const QString& module);

private:
    qs::SessionData m_data;
    QString m_path;
    QString m_experiment;
    QString m_compared;
    int m_layer = -1;
    QString m_module;
};

}  // namespace qs::gui
