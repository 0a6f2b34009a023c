// The header a study session starts with (core/analysis/experiment_record.h SessionHeader):
// which model (path, config.json digest, architecture, size) and which calibration data every
// experiment of the session shares. Used by `quantscope-cli sweep` and the GUI workbench.
#pragma once

#include "core/analysis/experiment_record.h"
#include "core/model/causal_lm.h"
#include "core/quant/recipe.h"

namespace qs {

SessionHeader make_session_header(const CausalLM& model, const CalibrationSettings& calibration);

}  // namespace qs
