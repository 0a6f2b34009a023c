// Short, human-readable text for counts and shapes shown in the tree and the inspector.
#pragma once

#include <cstdint>

#include <QString>

namespace qs::gui {

// 950 -> "950", 4096 -> "4.1 K", 7'012'352 -> "7.0 M", 6.7e9 -> "6.7 B".
QString formatCount(std::int64_t count);
// "[64 x 172]" for a [out, in] weight; "[64]" for a vector (cols == 1 and vector == true).
QString formatShape(std::int64_t rows, std::int64_t cols, bool vector = false);
// Four significant digits, no trailing noise: 0.0812, -1.234e-05.
QString formatValue(double value);

}  // namespace qs::gui
