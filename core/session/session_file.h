// The study's session file: one HDF5 file holding the model header, the calibration settings,
// the full-precision baseline statistics and every experiment (core/analysis/experiment_record.h).
// docs/session-format.md specifies the layout (schema version 1) for readers such as h5py.
//
// Crash safety: the file at `path` is never opened for writing. Every change is made on a copy
// "<path>.tmp-XXXXXX" in the same directory that is fsync'ed and renamed over `path`
// (core/session/session_staged_file.h), so a crash or SIGKILL at any moment leaves a readable
// session with every experiment whose append_experiment returned; at most the one in flight is
// lost. A crash can leave a stray "<path>.tmp-*" file, which readers ignore and which may be
// deleted when no QuantScope process is writing the session.
// Cost: each change copies the whole file (in-kernel copy_file_range).
//
// Concurrency: thread-safe (every HDF5 call of the module runs under one mutex: Debian's libhdf5
// is the serial build). Writers in one directory are serialized across processes by an flock on
// the directory; readers see the file either before or after a change, never half of it.
//
// Errors: every failure is a QsError "<path>: <problem>".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/analysis/experiment_record.h"

namespace qs {

// Creates a new session with the header and empty baseline and experiment lists. Fails if path
// exists and !overwrite. The file's schema_version is the one this build writes (1), whatever
// header.schema_version says.
void create_session(const std::string& path, const SessionHeader& header, bool overwrite = false);

// Reads everything; experiments in the order they were appended. Fails for a missing file, a
// file that is not HDF5 or not a QuantScope session, a newer schema_version than this build
// supports, or a missing required part. Experiments without the completion flag are skipped.
SessionData read_session(const std::string& path);

// Adds one experiment (its id must be new in the file, a single HDF5 name such as "exp-0001").
void append_experiment(const std::string& path, const ExperimentRecord& experiment);

// Replaces the baseline statistics (stage "original") with `baseline`.
void write_baseline(const std::string& path, const std::vector<LinearRecord>& baseline);

// (id, name) of every complete experiment in order, without reading statistics.
std::vector<std::pair<std::string, std::string>> list_experiments(const std::string& path);

// "exp-NNNN" (at least four digits) one past the highest "exp-<number>" id in the file,
// counting incomplete experiments too: never an id already used.
std::string next_experiment_id(const std::string& path);

}  // namespace qs
