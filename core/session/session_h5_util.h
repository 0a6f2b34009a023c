// Small HDF5 C-API helpers for the session file (core-internal: only core/session/*.cpp include
// this header, so HDF5 stays out of the public headers).
// - LibraryLock: Debian's libhdf5 is the serial, non-thread-safe build, so every HDF5 call of
//   the session module runs under one process-wide mutex; taking it also switches off HDF5's
//   automatic error-stack printing (failures become exceptions, not console noise).
// - Handle: owns one hid_t and closes it with the matching H5*close.
// - Attribute and 1-D dataset helpers in the storage conventions of docs/session-format.md:
//   integers int64 little-endian, reals float64/float32 little-endian, strings variable-length
//   UTF-8; an empty array is not written and reads back as empty; arrays longer than 4096
//   elements are chunked and gzip-compressed (level 4).
// Failures throw H5Error with the HDF5 object path in the message; the public functions of
// session_file.cpp turn it into a QsError that names the file.
#pragma once

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <hdf5.h>

namespace qs::h5 {

class H5Error : public std::runtime_error {
public:
    explicit H5Error(const std::string& message) : std::runtime_error(message) {}
};

class LibraryLock {
public:
    LibraryLock();

private:
    std::lock_guard<std::mutex> m_guard;
};

class Handle {
public:
    Handle() = default;
    explicit Handle(hid_t id) : m_id(id) {}
    ~Handle() { close(); }
    Handle(Handle&& other) noexcept : m_id(other.m_id) { other.m_id = H5I_INVALID_HID; }
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t get() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    // Closes now; false when HDF5 reports a failure (for a file: data may not be flushed).
    bool close();

private:
    hid_t m_id = H5I_INVALID_HID;
};

// The object's path inside the file ("/experiments/exp-0001"), for messages.
std::string object_path(hid_t object);

// File access: no HDF5 file locking (a session file is immutable once renamed into place, see
// session_staged_file.h); closing a file with objects still open fails instead of deferring the
// flush; new objects are written in the HDF5 1.8 format (readable by every HDF5 since 1.8).
Handle file_access_properties(bool writing);
// Opens an existing file (read-only or read-write) / creates or truncates one, with the
// properties above; throws H5Error with HDF5's reason on failure.
Handle open_file(const std::string& path, bool writable);
Handle create_file(const std::string& path);

// Groups are created with tracked and indexed link creation order, so that readers (ours and
// h5py) list children in the order they were written.
Handle create_group(hid_t parent, const std::string& name);
Handle open_group(hid_t parent, const std::string& name);  // throws when missing
bool has_link(hid_t parent, const std::string& name);
void delete_link(hid_t parent, const std::string& name);
// Child link names in creation order (name order for groups that do not track it).
std::vector<std::string> child_names(hid_t group);
// Rejects names that are not a single HDF5 path component ("", ".", or containing '/').
void check_link_name(const std::string& name, const std::string& what);

// Attributes (scalar). Readers convert from any stored integer or float type.
bool has_attribute(hid_t object, const std::string& name);
void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
void write_int_attribute(hid_t object, const std::string& name, std::int64_t value);
void write_uint_attribute(hid_t object, const std::string& name, std::uint64_t value);
void write_double_attribute(hid_t object, const std::string& name, double value);
std::string read_string_attribute(hid_t object, const std::string& name);
std::int64_t read_int_attribute(hid_t object, const std::string& name);
std::uint64_t read_uint_attribute(hid_t object, const std::string& name);
double read_double_attribute(hid_t object, const std::string& name);
int read_int32_attribute(hid_t object, const std::string& name);  // range-checked

// 1-D datasets, written only when non-empty; a missing one reads back as empty.
void write_array(hid_t parent, const std::string& name, const std::vector<float>& values);
void write_array(hid_t parent, const std::string& name, const std::vector<double>& values);
void write_array(hid_t parent, const std::string& name, const std::vector<std::int64_t>& values);
void write_array(hid_t parent, const std::string& name, const std::vector<std::int32_t>& values);
void write_array(hid_t parent, const std::string& name, const std::vector<std::string>& values);
void read_array(hid_t parent, const std::string& name, std::vector<float>& values);
void read_array(hid_t parent, const std::string& name, std::vector<double>& values);
void read_array(hid_t parent, const std::string& name, std::vector<std::int64_t>& values);
void read_array(hid_t parent, const std::string& name, std::vector<std::int32_t>& values);
void read_array(hid_t parent, const std::string& name, std::vector<std::string>& values);

// Scalar float64 dataset (perplexity's "ppl").
void write_scalar_dataset(hid_t parent, const std::string& name, double value);
double read_scalar_dataset(hid_t parent, const std::string& name);

}  // namespace qs::h5
