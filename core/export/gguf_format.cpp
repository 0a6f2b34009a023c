#include "core/export/gguf_format.h"

#include <limits>

#include "core/util/error.h"

namespace qs::gguf {

const char* value_type_name(ValueType type)
{
    switch (type) {
        case ValueType::UInt8:
            return "uint8";
        case ValueType::Int8:
            return "int8";
        case ValueType::UInt16:
            return "uint16";
        case ValueType::Int16:
            return "int16";
        case ValueType::UInt32:
            return "uint32";
        case ValueType::Int32:
            return "int32";
        case ValueType::Float32:
            return "float32";
        case ValueType::Bool:
            return "bool";
        case ValueType::String:
            return "string";
        case ValueType::Array:
            return "array";
        case ValueType::UInt64:
            return "uint64";
        case ValueType::Int64:
            return "int64";
        case ValueType::Float64:
            return "float64";
    }
    return "unknown";
}

ValueType scalar_value_type(const Scalar& s)
{
    // Variant order is the ValueType order with Array (9) skipped.
    static constexpr ValueType kByIndex[] = {
        ValueType::UInt8,  ValueType::Int8,   ValueType::UInt16,  ValueType::Int16,
        ValueType::UInt32, ValueType::Int32,  ValueType::Float32, ValueType::Bool,
        ValueType::String, ValueType::UInt64, ValueType::Int64,   ValueType::Float64};
    return kByIndex[s.index()];
}

Value Value::make_array(ValueType elem, std::vector<Scalar> items)
{
    if (elem == ValueType::Array) throw QsError("GGUF: nested arrays are not supported");
    for (const auto& item : items)
        if (scalar_value_type(item) != elem)
            throw QsError(std::string("GGUF: array of ") + value_type_name(elem) + " holds a " +
                          value_type_name(scalar_value_type(item)));
    Value v;
    v.type = ValueType::Array;
    v.array_type = elem;
    v.array = std::move(items);
    return v;
}

Value Value::strings(const std::vector<std::string>& items)
{
    return make_array(ValueType::String, std::vector<Scalar>(items.begin(), items.end()));
}

Value Value::floats(const std::vector<float>& items)
{
    return make_array(ValueType::Float32, std::vector<Scalar>(items.begin(), items.end()));
}

Value Value::int32s(const std::vector<std::int32_t>& items)
{
    return make_array(ValueType::Int32, std::vector<Scalar>(items.begin(), items.end()));
}

namespace {

[[noreturn]] void mismatch(const Value& v, const char* wanted)
{
    throw QsError(std::string("GGUF value is ") + value_type_name(v.type) + ", not " + wanted);
}

}  // namespace

const std::string& Value::as_string() const
{
    if (type != ValueType::String) mismatch(*this, "a string");
    return std::get<std::string>(scalar);
}

std::int64_t Value::as_int() const
{
    if (type == ValueType::Array) mismatch(*this, "an integer");
    if (type == ValueType::UInt64) {
        auto u = std::get<std::uint64_t>(scalar);
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            mismatch(*this, "an int64-representable integer");
        return static_cast<std::int64_t>(u);
    }
    return std::visit(
        [this](const auto& x) -> std::int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
                return static_cast<std::int64_t>(x);
            else
                mismatch(*this, "an integer");
        },
        scalar);
}

double Value::as_double() const
{
    if (type == ValueType::Float32) return std::get<float>(scalar);
    if (type == ValueType::Float64) return std::get<double>(scalar);
    if (type == ValueType::UInt64) return static_cast<double>(std::get<std::uint64_t>(scalar));
    return static_cast<double>(as_int());
}

bool Value::as_bool() const
{
    if (type != ValueType::Bool) mismatch(*this, "a bool");
    return std::get<bool>(scalar);
}

}  // namespace qs::gguf
