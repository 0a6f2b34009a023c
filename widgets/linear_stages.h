// The statistics stages of one linear as the linear views show them: the full-precision baseline
// ("original", session level) followed by the selected experiment's stages in recipe order
// ("input", "smoothquant", "awq", "quantized"; see core/analysis/experiment_record.h). Shared by
// the histogram, channel-absmax and layer-inspector views so that a stage has one name, one
// colour and one place in every plot.
#pragma once

#include <vector>

#include <QColor>
#include <QString>
#include <QStringList>

#include "core/analysis/stats_types.h"

namespace qs {
struct LinearRecord;
}

namespace qs::gui {

class SessionModel;

// Which tensor of a linear a view shows.
enum class TensorKind { Weights, Activations };

struct StageStats {
    QString stage;  // "original", "input", ...
    const qs::TensorStats* stats = nullptr;
};

// Every stage name in display order.
const QStringList& stageOrder();
// Okabe-Ito colour of a stage: original black, input sky blue, smoothquant bluish green,
// awq orange, quantized vermillion.
QColor stageColor(const QString& stage);
QString kindName(TensorKind kind);  // "weights", "activations"

// The non-empty statistics of (layer, module) for `kind`: baseline "original" first, then the
// selected experiment's stages in stageOrder(). Pointers stay valid until the model's data
// change (dataReset / experimentsChanged).
std::vector<StageStats> linearStages(const SessionModel& model, int layer, const QString& module,
                                     TensorKind kind);
const qs::TensorStats* findStage(const std::vector<StageStats>& stages, const QString& stage);

// The linear's record in the selected experiment, else the baseline's (shape and names are the
// same in both); null when neither has it.
const qs::LinearRecord* selectedLinearRecord(const SessionModel& model);

// Suffix of figure file names: "L4-mlp.down_proj".
QString linearFigureSuffix(int layer, const QString& module);
// Short name for plot titles, which must fit a one-column figure: "L4 down_proj".
QString linearShortName(int layer, const QString& module);

}  // namespace qs::gui
