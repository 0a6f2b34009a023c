#include "widgets/linear_stages.h"

#include "core/analysis/experiment_record.h"
#include "widgets/figure_style.h"
#include "widgets/session_model.h"

namespace qs::gui {

const QStringList& stageOrder()
{
    static const QStringList k_stages = {QStringLiteral("original"), QStringLiteral("input"),
                                         QStringLiteral("smoothquant"), QStringLiteral("awq"),
                                         QStringLiteral("quantized")};
    return k_stages;
}

QColor stageColor(const QString& stage)
{
    // Black for the reference, then colours in the order the recipe applies the stages; yellow
    // is left out (unreadable as a thin line on white).
    if (stage == QLatin1String("original")) return paletteColor(PaletteColor::Black);
    if (stage == QLatin1String("input")) return paletteColor(PaletteColor::SkyBlue);
    if (stage == QLatin1String("smoothquant")) return paletteColor(PaletteColor::Green);
    if (stage == QLatin1String("awq")) return paletteColor(PaletteColor::Orange);
    if (stage == QLatin1String("quantized")) return paletteColor(PaletteColor::Vermillion);
    return paletteColor(PaletteColor::Purple);
}

QString kindName(TensorKind kind)
{
    return kind == TensorKind::Weights ? QStringLiteral("weights") : QStringLiteral("activations");
}

namespace {

void appendStages(std::vector<StageStats>& out, const qs::LinearRecord* record, TensorKind kind,
                  bool baseline)
{
    if (!record) return;
    const auto& byStage =
        kind == TensorKind::Weights ? record->weight_stats : record->activation_stats;
    for (const QString& stage : stageOrder()) {
        if ((stage == QLatin1String("original")) != baseline) continue;
        const auto it = byStage.find(stage.toStdString());
        if (it != byStage.end() && !it->second.empty()) out.push_back({stage, &it->second});
    }
}

}  // namespace

std::vector<StageStats> linearStages(const SessionModel& model, int layer, const QString& module,
                                     TensorKind kind)
{
    std::vector<StageStats> stages;
    if (layer < 0 || module.isEmpty()) return stages;
    appendStages(stages, model.baselineLinear(layer, module), kind, true);
    appendStages(stages, model.experimentLinear(model.selectedExperiment(), layer, module), kind,
                 false);
    return stages;
}

const qs::TensorStats* findStage(const std::vector<StageStats>& stages, const QString& stage)
{
    for (const auto& s : stages)
        if (s.stage == stage) return s.stats;
    return nullptr;
}

const qs::LinearRecord* selectedLinearRecord(const SessionModel& model)
{
    const int layer = model.selectedLayer();
    const QString module = model.selectedModule();
    if (layer < 0 || module.isEmpty()) return nullptr;
    if (const auto* r = model.experimentLinear(model.selectedExperiment(), layer, module)) return r;
    return model.baselineLinear(layer, module);
}

QString linearShortName(int layer, const QString& module)
{
    // "self_attn." / "mlp." add nothing once the projection is named (q_proj is attention).
    return QStringLiteral("L%1 %2").arg(layer).arg(module.section(QLatin1Char('.'), -1));
}

QString linearFigureSuffix(int layer, const QString& module)
{
    return QStringLiteral("L%1-%2").arg(layer).arg(module);
}

}  // namespace qs::gui
