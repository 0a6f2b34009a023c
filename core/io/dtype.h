// Element types of checkpoint tensors, as safetensors names them.
#pragma once

#include <cstddef>
#include <optional>
#include <cstdint>
#include <string>
#include <vector>

namespace qs {

enum class DType { F32, F16, BF16, F64, I8, U8, I16, I32, I64, BOOL, F8_E4M3, F8_E5M2 };

std::optional<DType> dtype_from_name(const std::string& name);  // "F32" -> F32
std::string dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);
// Types whose values QuantScope can turn into float32 weights.
bool dtype_is_float(DType dtype);
// "[96, 256]" for error messages.
std::string shape_text(const std::vector<std::int64_t>& shape);

}  // namespace qs
