// GGUF v3 constants: value types of the key/value section, the ggml tensor types QuantScope
// reads or writes, and their block geometry. Numbers follow ggml's docs/gguf.md, ggml.h
// (enum ggml_type) and ggml-common.h (block_* structs); they are part of the file format and
// must never be renumbered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace qs::gguf {

inline constexpr std::uint32_t kMagic = 0x46554747;  // the bytes "GGUF" read little-endian
inline constexpr std::uint32_t kVersion = 3;
inline constexpr std::uint32_t kDefaultAlignment = 32;
inline constexpr const char* kAlignmentKey = "general.alignment";
inline constexpr int kMaxDims = 4;           // GGML_MAX_DIMS: llama.cpp refuses more
inline constexpr std::size_t kMaxName = 63;  // GGML_MAX_NAME - 1 (the name is NUL-terminated there)

// Type tag of a metadata value (gguf_metadata_value_type).
enum class ValueType : std::uint32_t {
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
};

// The ggml tensor types QuantScope knows (enum ggml_type ids). Writing supports F32, F16,
// Q8_0, Q4_0 and MXFP4; the K-quants are read (dequantized) only.
enum class TensorType : std::uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    MXFP4 = 39,
};

struct TensorTypeTraits {
    TensorType type;
    const char* name;         // ggml_type_name spelling
    std::int64_t block_size;  // elements per block
    std::size_t block_bytes;  // bytes per block
    bool writable;            // QuantScope can quantize to it
};

inline constexpr TensorTypeTraits kTensorTypes[] = {
    {TensorType::F32, "f32", 1, 4, true},        {TensorType::F16, "f16", 1, 2, true},
    {TensorType::Q4_0, "q4_0", 32, 18, true},     // fp16 d + 16 bytes of nibbles
    {TensorType::Q8_0, "q8_0", 32, 34, true},     // fp16 d + 32 int8
    {TensorType::Q2_K, "q2_K", 256, 84, false},   // scales[16] qs[64] d dmin
    {TensorType::Q3_K, "q3_K", 256, 110, false},  // hmask[32] qs[64] scales[12] d
    {TensorType::Q4_K, "q4_K", 256, 144, false},  // d dmin scales[12] qs[128]
    {TensorType::Q5_K, "q5_K", 256, 176, false},  // d dmin scales[12] qh[32] qs[128]
    {TensorType::Q6_K, "q6_K", 256, 210, false},  // ql[128] qh[64] scales[16] d
    {TensorType::MXFP4, "mxfp4", 32, 17, true},   // E8M0 e + 16 bytes of E2M1 nibbles
};

// Traits of a raw type id, or nullptr when QuantScope does not know the id.
inline const TensorTypeTraits* find_tensor_type(std::uint32_t id)
{
    for (const auto& t : kTensorTypes)
        if (static_cast<std::uint32_t>(t.type) == id) return &t;
    return nullptr;
}

inline const TensorTypeTraits& tensor_type_traits(TensorType type)
{
    return *find_tensor_type(static_cast<std::uint32_t>(type));  // every enumerator is listed
}

inline const char* tensor_type_name(TensorType type)
{
    return tensor_type_traits(type).name;
}

// Bytes of n_elements of `type`; nullopt when n_elements is not a whole number of blocks.
inline std::optional<std::size_t> tensor_bytes(TensorType type, std::uint64_t n_elements)
{
    const auto& t = tensor_type_traits(type);
    if (n_elements % static_cast<std::uint64_t>(t.block_size) != 0) return std::nullopt;
    return static_cast<std::size_t>(n_elements / static_cast<std::uint64_t>(t.block_size)) *
           t.block_bytes;
}

const char* value_type_name(ValueType type);

// One scalar value; the alternative's index maps to a ValueType through scalar_value_type.
using Scalar =
    std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::uint32_t,
                 std::int32_t, float, bool, std::string, std::uint64_t, std::int64_t, double>;

ValueType scalar_value_type(const Scalar& s);

// A metadata value: a scalar, or a flat array of scalars of one type. Nested arrays are legal
// in the spec but llama.cpp rejects them, so QuantScope neither writes nor reads them.
struct Value {
    ValueType type = ValueType::UInt8;
    Scalar scalar;                            // when type != Array
    ValueType array_type = ValueType::UInt8;  // when type == Array
    std::vector<Scalar> array;                // every element of array_type

    Value() = default;
    // Implicit from anything a Scalar holds, so set("key", 1.5f) needs no wrapping; the type
    // tag follows the C++ type (1.5f is float32, 1.5 float64, std::uint32_t{7} uint32).
    Value(Scalar s) : type(scalar_value_type(s)), scalar(std::move(s)) {}  // NOLINT: implicit
    Value(const char* s) : Value(Scalar(std::string(s))) {}                // NOLINT: implicit
    template <typename T>
    requires(std::is_constructible_v<Scalar, T> && !std::is_convertible_v<T, const char*> &&
             !std::is_same_v<std::decay_t<T>, Scalar> && !std::is_same_v<std::decay_t<T>, Value>)
        Value(T&& v)
        : Value(Scalar(std::forward<T>(v)))  // NOLINT: implicit
    {
    }

    // Throws QsError when an element's type differs from elem.
    static Value make_array(ValueType elem, std::vector<Scalar> items);
    static Value strings(const std::vector<std::string>& items);
    static Value floats(const std::vector<float>& items);
    static Value int32s(const std::vector<std::int32_t>& items);

    bool is_array() const { return type == ValueType::Array; }
    // Converting accessors; throw QsError (naming the expected type) on a mismatch.
    const std::string& as_string() const;
    std::int64_t as_int() const;  // any integer type (uint64 above INT64_MAX throws)
    double as_double() const;     // float32/float64 or any integer
    bool as_bool() const;

    bool operator==(const Value& other) const = default;
};

}  // namespace qs::gguf
