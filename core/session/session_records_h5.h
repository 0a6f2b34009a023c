// How the session records (core/analysis/experiment_record.h) map onto HDF5 groups, attributes
// and datasets: docs/session-format.md is the specification, these functions implement it.
// Core-internal (includes HDF5); callers hold h5::LibraryLock. Failures throw h5::H5Error.
#pragma once

#include <string>
#include <vector>

#include "core/analysis/experiment_record.h"
#include "core/session/session_h5_util.h"

namespace qs::h5 {

// Root attribute values that identify a session file.
inline constexpr const char* kSessionFormat = "quantscope-session";
inline constexpr int kSessionSchemaVersion = 1;

// LinearRecords under `parent` (/baseline or /experiments/<id>/layers) as
// layer_NNN/<module>/; children are read back in the order they were written, so a layer-major
// vector round-trips exactly.
void write_linears(hid_t parent, const std::vector<LinearRecord>& linears);
std::vector<LinearRecord> read_linears(hid_t parent);

// One TensorStats in `group` (weight_stats/<stage> or activation_stats/<stage>).
void write_tensor_stats(hid_t group, const TensorStats& stats);
TensorStats read_tensor_stats(hid_t group);

// /experiments/<id>: everything, with the attribute complete = 1 written last.
void write_experiment(hid_t experiments, const ExperimentRecord& experiment);
ExperimentRecord read_experiment(hid_t experiments, const std::string& id);
bool is_complete_experiment(hid_t experiments, const std::string& id);

// Root attributes and /calibration (format and schema_version are written as the constants
// above; read_header expects the caller to have checked them).
void write_header(hid_t file, const SessionHeader& header);
SessionHeader read_header(hid_t file);

}  // namespace qs::h5
