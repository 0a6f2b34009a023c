// HDF5 helpers of the session file: handles, attributes, 1-D datasets, groups in creation
// order. Every function expects the caller to hold LibraryLock. Failure messages capture the
// innermost HDF5 error description before any further HDF5 call (a call clears the stack).
#include "core/session/session_h5_util.h"

#include <algorithm>
#include <limits>

namespace qs::h5 {

namespace {

// Arrays longer than this are chunked and compressed (docs/session-format.md).
constexpr hsize_t kCompressAbove = 4096;
constexpr hsize_t kMaxChunkElements = hsize_t(1) << 18;
constexpr unsigned kGzipLevel = 4;

// H5Pset_file_locking arrived in 1.10.7 and 1.12.1.
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) || H5_VERSION_GE(1, 12, 1)
#define QS_HAVE_H5_FILE_LOCKING 1
#endif

std::mutex& library_mutex()
{
    static std::mutex mutex;
    return mutex;
}

herr_t innermost_error(unsigned n, const H5E_error2_t* error, void* data)
{
    if (n == 0 && error && error->desc) *static_cast<std::string*>(data) = error->desc;
    return 0;
}

std::string hdf5_detail()
{
    std::string detail;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &detail);
    return detail;
}

// Throws for a failed HDF5 call on object `context` (the detail is read first: see above).
[[noreturn]] void fail_call(hid_t context, const std::string& action)
{
    std::string detail = hdf5_detail();
    std::string message = action + " at " + object_path(context);
    if (!detail.empty()) message += " (" + detail + ")";
    throw H5Error(message);
}

[[noreturn]] void fail_at(hid_t context, const std::string& problem)
{
    throw H5Error(problem + " at " + object_path(context));
}

Handle utf8_link_properties()
{
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
    if (!lcpl.valid()) throw H5Error("cannot create HDF5 link properties");
    H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8);
    return lcpl;
}

Handle string_type()
{
    Handle type(H5Tcopy(H5T_C_S1));
    if (!type.valid() || H5Tset_size(type.get(), H5T_VARIABLE) < 0 ||
        H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0)
        throw H5Error("cannot create the HDF5 string type");
    return type;
}

Handle open_attribute(hid_t object, const std::string& name)
{
    if (H5Aexists(object, name.c_str()) <= 0) fail_at(object, "missing attribute '" + name + "'");
    Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT));
    if (!attribute.valid()) fail_call(object, "cannot open attribute '" + name + "'");
    Handle space(H5Aget_space(attribute.get()));
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
        fail_at(object, "attribute '" + name + "' is not a single value");
    return attribute;
}

void write_attribute(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                     const void* value)
{
    if (H5Aexists(object, name.c_str()) > 0 && H5Adelete(object, name.c_str()) < 0)
        fail_call(object, "cannot replace attribute '" + name + "'");
    Handle space(H5Screate(H5S_SCALAR));
    Handle attribute(
        H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!attribute.valid()) fail_call(object, "cannot create attribute '" + name + "'");
    if (H5Awrite(attribute.get(), memory_type, value) < 0)
        fail_call(object, "cannot write attribute '" + name + "'");
}

void read_numeric_attribute(hid_t object, const std::string& name, hid_t memory_type,
                            bool allow_float, void* value)
{
    Handle attribute = open_attribute(object, name);
    Handle type(H5Aget_type(attribute.get()));
    H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class != H5T_INTEGER && !(allow_float && type_class == H5T_FLOAT))
        fail_at(object, "attribute '" + name + "' has the wrong type");
    if (H5Aread(attribute.get(), memory_type, value) < 0)
        fail_call(object, "cannot read attribute '" + name + "'");
}

std::string fixed_string(const char* data, std::size_t size, H5T_str_t padding)
{
    std::string text(data, size);
    if (auto end = text.find('\0'); end != std::string::npos) text.resize(end);
    if (padding == H5T_STR_SPACEPAD) {
        while (!text.empty() && text.back() == ' ')
            text.pop_back();
    }
    return text;
}

void write_dataset(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type,
                   const void* data, std::size_t count)
{
    if (count == 0) return;
    hsize_t dims[1] = {count};
    Handle space(H5Screate_simple(1, dims, nullptr));
    Handle create(H5Pcreate(H5P_DATASET_CREATE));
    if (count > kCompressAbove && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        hsize_t chunk[1] = {std::min<hsize_t>(count, kMaxChunkElements)};
        if (H5Pset_chunk(create.get(), 1, chunk) < 0 ||
            H5Pset_deflate(create.get(), kGzipLevel) < 0)
            fail_call(parent, "cannot set compression for '" + name + "'");
    }
    Handle links = utf8_link_properties();
    Handle dataset(H5Dcreate2(parent, name.c_str(), file_type, space.get(), links.get(),
                              create.get(), H5P_DEFAULT));
    if (!dataset.valid()) fail_call(parent, "cannot create dataset '" + name + "'");
    if (H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        fail_call(parent, "cannot write dataset '" + name + "'");
}

// Opens a 1-D dataset and returns its length; an invalid handle when the link is missing.
Handle open_array(hid_t parent, const std::string& name, std::size_t& count)
{
    count = 0;
    if (!has_link(parent, name)) return Handle();
    Handle dataset(H5Dopen2(parent, name.c_str(), H5P_DEFAULT));
    if (!dataset.valid()) fail_call(parent, "cannot open dataset '" + name + "'");
    Handle space(H5Dget_space(dataset.get()));
    if (H5Sget_simple_extent_ndims(space.get()) != 1)
        fail_at(parent, "dataset '" + name + "' is not one-dimensional");
    hsize_t dims[1] = {0};
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    count = static_cast<std::size_t>(dims[0]);
    return dataset;
}

template <typename T>
void read_numeric_array(hid_t parent, const std::string& name, hid_t memory_type,
                        std::vector<T>& values)
{
    std::size_t count = 0;
    Handle dataset = open_array(parent, name, count);
    values.assign(count, T{});
    if (count == 0) return;
    Handle type(H5Dget_type(dataset.get()));
    H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class != H5T_INTEGER && type_class != H5T_FLOAT)
        fail_at(parent, "dataset '" + name + "' is not numeric");
    if (H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        fail_call(parent, "cannot read dataset '" + name + "'");
}

}  // namespace

LibraryLock::LibraryLock() : m_guard(library_mutex())
{
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Handle& Handle::operator=(Handle&& other) noexcept
{
    if (this != &other) {
        close();
        m_id = other.m_id;
        other.m_id = H5I_INVALID_HID;
    }
    return *this;
}

bool Handle::close()
{
    if (m_id < 0) return true;
    herr_t status = -1;
    switch (H5Iget_type(m_id)) {
        case H5I_FILE:
            status = H5Fclose(m_id);
            break;
        case H5I_GROUP:
            status = H5Gclose(m_id);
            break;
        case H5I_DATASET:
            status = H5Dclose(m_id);
            break;
        case H5I_ATTR:
            status = H5Aclose(m_id);
            break;
        case H5I_DATASPACE:
            status = H5Sclose(m_id);
            break;
        case H5I_DATATYPE:
            status = H5Tclose(m_id);
            break;
        case H5I_GENPROP_LST:
            status = H5Pclose(m_id);
            break;
        default:
            status = H5Idec_ref(m_id) < 0 ? -1 : 0;
            break;
    }
    m_id = H5I_INVALID_HID;
    return status >= 0;
}

std::string object_path(hid_t object)
{
    ssize_t length = H5Iget_name(object, nullptr, 0);
    if (length <= 0) return "?";
    std::string name(static_cast<std::size_t>(length) + 1, '\0');
    H5Iget_name(object, name.data(), name.size());
    name.resize(static_cast<std::size_t>(length));
    return name;
}

Handle file_access_properties(bool writing)
{
    Handle access(H5Pcreate(H5P_FILE_ACCESS));
    if (!access.valid()) throw H5Error("cannot create HDF5 file access properties");
    H5Pset_fclose_degree(access.get(), H5F_CLOSE_SEMI);
    if (writing) {  // bounds limit what is written; reading accepts any format version
#if H5_VERSION_GE(1, 10, 2)
        H5Pset_libver_bounds(access.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
#else
        H5Pset_libver_bounds(access.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
#endif
    }
#ifdef QS_HAVE_H5_FILE_LOCKING
    H5Pset_file_locking(access.get(), false, true);
#endif
    return access;
}

Handle open_file(const std::string& path, bool writable)
{
    Handle access = file_access_properties(writable);
    Handle file(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, access.get()));
    if (!file.valid()) {
        std::string detail = hdf5_detail();
        throw H5Error("cannot open as an HDF5 file" + (detail.empty() ? "" : " (" + detail + ")"));
    }
    return file;
}

Handle create_file(const std::string& path)
{
    // The root group tracks link creation order like every other group (see create_group).
    Handle create(H5Pcreate(H5P_FILE_CREATE));
    if (!create.valid() ||
        H5Pset_link_creation_order(create.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0)
        throw H5Error("cannot create HDF5 file creation properties");
    Handle access = file_access_properties(true);
    Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, create.get(), access.get()));
    if (!file.valid()) {
        std::string detail = hdf5_detail();
        throw H5Error("cannot create HDF5 file " + path +
                      (detail.empty() ? "" : " (" + detail + ")"));
    }
    return file;
}

Handle create_group(hid_t parent, const std::string& name)
{
    Handle create(H5Pcreate(H5P_GROUP_CREATE));
    H5Pset_link_creation_order(create.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    Handle links = utf8_link_properties();
    Handle group(H5Gcreate2(parent, name.c_str(), links.get(), create.get(), H5P_DEFAULT));
    if (!group.valid()) fail_call(parent, "cannot create group '" + name + "'");
    return group;
}

Handle open_group(hid_t parent, const std::string& name)
{
    if (!has_link(parent, name)) fail_at(parent, "missing group '" + name + "'");
    Handle group(H5Gopen2(parent, name.c_str(), H5P_DEFAULT));
    if (!group.valid()) fail_call(parent, "cannot open group '" + name + "'");
    return group;
}

bool has_link(hid_t parent, const std::string& name)
{
    return H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0;
}

void delete_link(hid_t parent, const std::string& name)
{
    if (H5Ldelete(parent, name.c_str(), H5P_DEFAULT) < 0)
        fail_call(parent, "cannot delete '" + name + "'");
}

std::vector<std::string> child_names(hid_t group)
{
    H5G_info_t info{};
    if (H5Gget_info(group, &info) < 0) fail_call(group, "cannot list group");
    unsigned order_flags = 0;
    {
        Handle create(H5Gget_create_plist(group));
        if (create.valid()) H5Pget_link_creation_order(create.get(), &order_flags);
    }
    auto list = [&](H5_index_t index, std::vector<std::string>& names) {
        names.clear();
        for (hsize_t i = 0; i < info.nlinks; ++i) {
            ssize_t length =
                H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
            if (length < 0) return false;
            std::string name(static_cast<std::size_t>(length) + 1, '\0');
            H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, name.data(), name.size(),
                               H5P_DEFAULT);
            name.resize(static_cast<std::size_t>(length));
            names.push_back(std::move(name));
        }
        return true;
    };
    std::vector<std::string> names;
    if ((order_flags & H5P_CRT_ORDER_TRACKED) && list(H5_INDEX_CRT_ORDER, names)) return names;
    if (!list(H5_INDEX_NAME, names)) fail_call(group, "cannot list group");
    return names;
}

void check_link_name(const std::string& name, const std::string& what)
{
    if (name.empty() || name == "." || name.find('/') != std::string::npos)
        throw H5Error("invalid " + what + " '" + name +
                      "' (an HDF5 name: not empty, not '.', no '/')");
}

bool has_attribute(hid_t object, const std::string& name)
{
    return H5Aexists(object, name.c_str()) > 0;
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value)
{
    Handle type = string_type();
    const char* text = value.c_str();
    write_attribute(object, name, type.get(), type.get(), &text);
}

void write_int_attribute(hid_t object, const std::string& name, std::int64_t value)
{
    write_attribute(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void write_uint_attribute(hid_t object, const std::string& name, std::uint64_t value)
{
    write_attribute(object, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

void write_double_attribute(hid_t object, const std::string& name, double value)
{
    write_attribute(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

std::string read_string_attribute(hid_t object, const std::string& name)
{
    Handle attribute = open_attribute(object, name);
    Handle type(H5Aget_type(attribute.get()));
    if (H5Tget_class(type.get()) != H5T_STRING)
        fail_at(object, "attribute '" + name + "' is not a string");
    if (H5Tis_variable_str(type.get()) > 0) {
        Handle memory_type = string_type();
        char* text = nullptr;
        if (H5Aread(attribute.get(), memory_type.get(), &text) < 0)
            fail_call(object, "cannot read attribute '" + name + "'");
        std::string value = text ? text : "";
        H5free_memory(text);
        return value;
    }
    std::size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size + 1, '\0');
    if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0)
        fail_call(object, "cannot read attribute '" + name + "'");
    return fixed_string(buffer.data(), size, H5Tget_strpad(type.get()));
}

std::int64_t read_int_attribute(hid_t object, const std::string& name)
{
    std::int64_t value = 0;
    read_numeric_attribute(object, name, H5T_NATIVE_INT64, false, &value);
    return value;
}

std::uint64_t read_uint_attribute(hid_t object, const std::string& name)
{
    std::uint64_t value = 0;
    read_numeric_attribute(object, name, H5T_NATIVE_UINT64, false, &value);
    return value;
}

double read_double_attribute(hid_t object, const std::string& name)
{
    double value = 0;
    read_numeric_attribute(object, name, H5T_NATIVE_DOUBLE, true, &value);
    return value;
}

int read_int32_attribute(hid_t object, const std::string& name)
{
    std::int64_t value = read_int_attribute(object, name);
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max())
        fail_at(object, "attribute '" + name + "' is out of range");
    return static_cast<int>(value);
}

void write_array(hid_t parent, const std::string& name, const std::vector<float>& values)
{
    write_dataset(parent, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, values.data(), values.size());
}

void write_array(hid_t parent, const std::string& name, const std::vector<double>& values)
{
    write_dataset(parent, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data(), values.size());
}

void write_array(hid_t parent, const std::string& name, const std::vector<std::int64_t>& values)
{
    write_dataset(parent, name, H5T_STD_I64LE, H5T_NATIVE_INT64, values.data(), values.size());
}

void write_array(hid_t parent, const std::string& name, const std::vector<std::int32_t>& values)
{
    write_dataset(parent, name, H5T_STD_I32LE, H5T_NATIVE_INT32, values.data(), values.size());
}

void write_array(hid_t parent, const std::string& name, const std::vector<std::string>& values)
{
    std::vector<const char*> texts;
    texts.reserve(values.size());
    for (const auto& value : values)
        texts.push_back(value.c_str());
    Handle type = string_type();
    write_dataset(parent, name, type.get(), type.get(), texts.data(), texts.size());
}

void read_array(hid_t parent, const std::string& name, std::vector<float>& values)
{
    read_numeric_array(parent, name, H5T_NATIVE_FLOAT, values);
}

void read_array(hid_t parent, const std::string& name, std::vector<double>& values)
{
    read_numeric_array(parent, name, H5T_NATIVE_DOUBLE, values);
}

void read_array(hid_t parent, const std::string& name, std::vector<std::int64_t>& values)
{
    read_numeric_array(parent, name, H5T_NATIVE_INT64, values);
}

void read_array(hid_t parent, const std::string& name, std::vector<std::int32_t>& values)
{
    read_numeric_array(parent, name, H5T_NATIVE_INT32, values);
}

void read_array(hid_t parent, const std::string& name, std::vector<std::string>& values)
{
    std::size_t count = 0;
    Handle dataset = open_array(parent, name, count);
    values.clear();
    if (count == 0) return;
    Handle type(H5Dget_type(dataset.get()));
    if (H5Tget_class(type.get()) != H5T_STRING)
        fail_at(parent, "dataset '" + name + "' is not a string array");
    values.reserve(count);
    if (H5Tis_variable_str(type.get()) > 0) {
        Handle memory_type = string_type();
        std::vector<char*> texts(count, nullptr);
        if (H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) <
            0)
            fail_call(parent, "cannot read dataset '" + name + "'");
        for (char* text : texts) {
            values.emplace_back(text ? text : "");
            H5free_memory(text);
        }
        return;
    }
    std::size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size * count + 1, '\0');
    if (H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
        fail_call(parent, "cannot read dataset '" + name + "'");
    H5T_str_t padding = H5Tget_strpad(type.get());
    for (std::size_t i = 0; i < count; ++i)
        values.push_back(fixed_string(buffer.data() + i * size, size, padding));
}

void write_scalar_dataset(hid_t parent, const std::string& name, double value)
{
    Handle space(H5Screate(H5S_SCALAR));
    Handle links = utf8_link_properties();
    Handle dataset(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F64LE, space.get(), links.get(),
                              H5P_DEFAULT, H5P_DEFAULT));
    if (!dataset.valid()) fail_call(parent, "cannot create dataset '" + name + "'");
    if (H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0)
        fail_call(parent, "cannot write dataset '" + name + "'");
}

double read_scalar_dataset(hid_t parent, const std::string& name)
{
    if (!has_link(parent, name)) fail_at(parent, "missing dataset '" + name + "'");
    Handle dataset(H5Dopen2(parent, name.c_str(), H5P_DEFAULT));
    if (!dataset.valid()) fail_call(parent, "cannot open dataset '" + name + "'");
    Handle space(H5Dget_space(dataset.get()));
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
        fail_at(parent, "dataset '" + name + "' is not a single value");
    double value = 0;
    if (H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0)
        fail_call(parent, "cannot read dataset '" + name + "'");
    return value;
}

}  // namespace qs::h5
