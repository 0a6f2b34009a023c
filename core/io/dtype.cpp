// Safetensors dtype names and element sizes. The table is the single source of truth so that
// name <-> enum <-> size can never disagree.
#include "core/io/dtype.h"

#include <array>

namespace qs {

namespace {

struct DTypeRow {
    DType dtype;
    const char* name;
    std::size_t size;
    bool is_float;  // convertible to float32 by core/io/tensor_torch (libtorch 1.13 has no fp8)
};

constexpr std::array<DTypeRow, 12> kDTypes{{
    {DType::F32, "F32", 4, true},
    {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},
    {DType::F64, "F64", 8, true},
    {DType::I8, "I8", 1, false},
    {DType::U8, "U8", 1, false},
    {DType::I16, "I16", 2, false},
    {DType::I32, "I32", 4, false},
    {DType::I64, "I64", 8, false},
    {DType::BOOL, "BOOL", 1, false},
    {DType::F8_E4M3, "F8_E4M3", 1, false},
    {DType::F8_E5M2, "F8_E5M2", 1, false},
}};

const DTypeRow& row(DType dtype)
{
    for (const auto& r : kDTypes)
        if (r.dtype == dtype) return r;
    return kDTypes[0];  // unreachable: every enumerator has a row
}

}  // namespace

std::optional<DType> dtype_from_name(const std::string& name)
{
    for (const auto& r : kDTypes)
        if (name == r.name) return r.dtype;
    return std::nullopt;
}

std::string dtype_name(DType dtype)
{
    return row(dtype).name;
}

std::size_t dtype_size(DType dtype)
{
    return row(dtype).size;
}

bool dtype_is_float(DType dtype)
{
    return row(dtype).is_float;
}

std::string shape_text(const std::vector<std::int64_t>& shape)
{
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace qs
