// Public session-file functions: open and identify a session, read it, and run every change as
// a StagedSessionFile transaction (copy, edit with HDF5, close, fsync, rename). The record
// layout itself is in session_linear_h5.cpp and session_experiment_h5.cpp.
#include "core/session/session_file.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/session/session_records_h5.h"
#include "core/session/session_staged_file.h"
#include "core/util/error.h"

namespace qs {

namespace {

using h5::Handle;

// Runs body, turning HDF5 failures into a QsError that names the session file.
template <typename Body>
auto with_file_errors(const std::string& path, Body&& body) -> decltype(body())
{
    try {
        return body();
    } catch (const h5::H5Error& error) {
        fail_file(path, error.what());
    }
}

// The HDF5 superblock signature sits at byte 0, 512, 1024, 2048, ... (user block sizes).
bool has_hdf5_signature(const std::string& path)
{
    static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    for (std::streamoff offset = 0; offset + 8 <= size; offset = offset ? offset * 2 : 512) {
        char bytes[8] = {};
        in.seekg(offset);
        if (!in.read(bytes, sizeof bytes)) return false;
        if (std::memcmp(bytes, kSignature, sizeof bytes) == 0) return true;
    }
    return false;
}

// Fails, naming path, unless it is an existing HDF5 file.
void check_hdf5_file(const std::string& path)
{
    std::error_code error;
    auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) fail_file(path, "no such file");
    if (!std::filesystem::is_regular_file(status)) fail_file(path, "not a regular file");
    if (!has_hdf5_signature(path))
        fail_file(path, "not an HDF5 file (a QuantScope session is an HDF5 file)");
}

// Fails, naming path, unless the open file is a session of a schema this build can read.
void check_session_identity(hid_t file, const std::string& path)
{
    if (!h5::has_attribute(file, "format"))
        fail_file(path, "not a QuantScope session (no root attribute 'format')");
    std::string format = h5::read_string_attribute(file, "format");
    if (format != h5::kSessionFormat)
        fail_file(path, "not a QuantScope session (format is '" + format + "', expected '" +
                            h5::kSessionFormat + "')");
    if (!h5::has_attribute(file, "schema_version"))
        fail_file(path, "not a valid session (no root attribute 'schema_version')");
    std::int64_t version = h5::read_int_attribute(file, "schema_version");
    if (version > h5::kSessionSchemaVersion)
        fail_file(path, "session schema version " + std::to_string(version) +
                            " is newer than this QuantScope supports (" +
                            std::to_string(h5::kSessionSchemaVersion) +
                            "); open it with a newer QuantScope");
    if (version < 1) fail_file(path, "invalid session schema version " + std::to_string(version));
}

Handle open_session_for_reading(const std::string& path)
{
    check_hdf5_file(path);
    Handle file = h5::open_file(path, false);
    check_session_identity(file.get(), path);
    return file;
}

void close_written_file(Handle& file)
{
    if (!file.close()) throw h5::H5Error("cannot finish writing the HDF5 file (close failed)");
}

// The one write path: edit(file) runs on an HDF5-open copy of the session, which then replaces
// it. The HDF5 lock is held only while HDF5 runs, not during the copy and the fsync.
void update_session(const std::string& path, const std::function<void(hid_t)>& edit)
{
    check_hdf5_file(path);
    StagedSessionFile staged(path, StagedSessionFile::Start::CopyOfTarget);
    {
        h5::LibraryLock lock;
        with_file_errors(path, [&] {
            Handle file = h5::open_file(staged.path(), true);
            check_session_identity(file.get(), path);
            edit(file.get());
            close_written_file(file);
        });
    }
    staged.commit(true);
}

std::vector<std::string> experiment_ids(hid_t file)
{
    Handle experiments = h5::open_group(file, "experiments");
    return h5::child_names(experiments.get());
}

}  // namespace

void create_session(const std::string& path, const SessionHeader& header, bool overwrite)
{
    std::error_code error;
    if (!overwrite && std::filesystem::exists(std::filesystem::symlink_status(path, error)))
        fail_file(path, "already exists (choose another name, or overwrite it)");
    StagedSessionFile staged(path, StagedSessionFile::Start::Empty);
    {
        h5::LibraryLock lock;
        with_file_errors(path, [&] {
            Handle file = h5::create_file(staged.path());
            h5::write_header(file.get(), header);
            h5::create_group(file.get(), "baseline");
            h5::create_group(file.get(), "experiments");
            close_written_file(file);
        });
    }
    staged.commit(overwrite);
}

SessionData read_session(const std::string& path)
{
    h5::LibraryLock lock;
    return with_file_errors(path, [&] {
        Handle file = open_session_for_reading(path);
        SessionData data;
        data.header = h5::read_header(file.get());
        {
            Handle baseline = h5::open_group(file.get(), "baseline");
            data.baseline = h5::read_linears(baseline.get());
        }
        Handle experiments = h5::open_group(file.get(), "experiments");
        for (const auto& id : h5::child_names(experiments.get())) {
            if (h5::is_complete_experiment(experiments.get(), id))
                data.experiments.push_back(h5::read_experiment(experiments.get(), id));
        }
        return data;
    });
}

void append_experiment(const std::string& path, const ExperimentRecord& experiment)
{
    update_session(path, [&](hid_t file) {
        h5::check_link_name(experiment.id, "experiment id");
        Handle experiments = h5::open_group(file, "experiments");
        if (h5::has_link(experiments.get(), experiment.id))
            fail_file(path, "experiment id '" + experiment.id + "' already exists");
        h5::write_experiment(experiments.get(), experiment);
    });
}

void write_baseline(const std::string& path, const std::vector<LinearRecord>& baseline)
{
    update_session(path, [&](hid_t file) {
        if (h5::has_link(file, "baseline")) h5::delete_link(file, "baseline");
        Handle group = h5::create_group(file, "baseline");
        h5::write_linears(group.get(), baseline);
    });
}

std::vector<std::pair<std::string, std::string>> list_experiments(const std::string& path)
{
    h5::LibraryLock lock;
    return with_file_errors(path, [&] {
        Handle file = open_session_for_reading(path);
        Handle experiments = h5::open_group(file.get(), "experiments");
        std::vector<std::pair<std::string, std::string>> listed;
        for (const auto& id : h5::child_names(experiments.get())) {
            if (!h5::is_complete_experiment(experiments.get(), id)) continue;
            Handle group = h5::open_group(experiments.get(), id);
            listed.emplace_back(id, h5::read_string_attribute(group.get(), "name"));
        }
        return listed;
    });
}

std::string next_experiment_id(const std::string& path)
{
    h5::LibraryLock lock;
    return with_file_errors(path, [&] {
        Handle file = open_session_for_reading(path);
        long long highest = 0;
        for (const auto& id : experiment_ids(file.get())) {
            const std::string prefix = "exp-";
            if (id.size() <= prefix.size() || id.size() > prefix.size() + 15 ||
                id.compare(0, prefix.size(), prefix) != 0 ||
                id.find_first_not_of("0123456789", prefix.size()) != std::string::npos)
                continue;
            highest = std::max(highest, std::stoll(id.substr(prefix.size())));
        }
        char id[32];
        std::snprintf(id, sizeof id, "exp-%04lld", highest + 1);
        return std::string(id);
    });
}

}  // namespace qs
