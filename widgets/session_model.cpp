#include "widgets/session_model.h"

#include <utility>

namespace qs::gui {

SessionModel::SessionModel(QObject* parent) : QObject(parent) {}

void SessionModel::setData(qs::SessionData data, const QString& path)
{
    m_data = std::move(data);
    m_path = path;
    if (!experiment(m_experiment)) m_experiment.clear();
    if (!experiment(m_compared)) m_compared.clear();
    if (m_layer >= m_data.header.num_layers) {
        m_layer = -1;
        m_module.clear();
    }
    emit dataReset();
}

void SessionModel::clear()
{
    setData({}, {});
}

void SessionModel::addExperiment(qs::ExperimentRecord experiment)
{
    m_data.experiments.push_back(std::move(experiment));
    emit experimentsChanged();
}

void SessionModel::setBaseline(std::vector<qs::LinearRecord> baseline)
{
    m_data.baseline = std::move(baseline);
    emit dataReset();
}

QStringList SessionModel::moduleNames() const
{
    QStringList names;
    auto collect = [&names](const std::vector<qs::LinearRecord>& linears) {
        for (const auto& linear : linears) {
            const QString name = QString::fromStdString(linear.module);
            if (!names.contains(name)) names << name;
        }
    };
    collect(m_data.baseline);
    for (const auto& e : m_data.experiments)
        collect(e.linears);
    return names;
}

const qs::ExperimentRecord* SessionModel::experiment(const QString& id) const
{
    if (id.isEmpty()) return nullptr;
    const std::string key = id.toStdString();
    for (const auto& e : m_data.experiments)
        if (e.id == key) return &e;
    return nullptr;
}

namespace {

const qs::LinearRecord* findLinear(const std::vector<qs::LinearRecord>& linears, int layer,
                                   const QString& module)
{
    const std::string key = module.toStdString();
    for (const auto& linear : linears)
        if (linear.layer == layer && linear.module == key) return &linear;
    return nullptr;
}

}  // namespace

const qs::LinearRecord* SessionModel::baselineLinear(int layer, const QString& module) const
{
    return findLinear(m_data.baseline, layer, module);
}

const qs::LinearRecord* SessionModel::experimentLinear(const QString& id, int layer,
                                                       const QString& module) const
{
    const auto* e = experiment(id);
    return e ? findLinear(e->linears, layer, module) : nullptr;
}

void SessionModel::selectExperiment(const QString& id)
{
    const QString valid = experiment(id) ? id : QString();
    if (valid == m_experiment) return;
    m_experiment = valid;
    emit experimentSelected(m_experiment);
}

void SessionModel::selectComparedExperiment(const QString& id)
{
    const QString valid = experiment(id) ? id : QString();
    if (valid == m_compared) return;
    m_compared = valid;
    emit comparedExperimentSelected(m_compared);
}

void SessionModel::selectLinear(int layer, const QString& module)
{
    if (layer == m_layer && module == m_module) return;
    m_layer = layer;
    m_module = module;
    emit linearSelected(layer, module);
}

}  // namespace qs::gui
