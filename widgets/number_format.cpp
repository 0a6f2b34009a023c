#include "widgets/number_format.h"

#include <array>
#include <cmath>

namespace qs::gui {

QString formatCount(std::int64_t count)
{
    // One decimal at every scale: parameter counts are compared by eye across rows.
    static constexpr std::array<std::pair<double, const char*>, 4> k_units = {
        {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}}};
    const double value = static_cast<double>(count);
    for (const auto& [scale, suffix] : k_units) {
        // Round first so 999'950 reads "1.0 M", not "1000.0 K".
        if (std::abs(value) >= scale * 0.99995)
            return QStringLiteral("%1 %2").arg(value / scale, 0, 'f', 1).arg(suffix);
    }
    return QString::number(count);
}

QString formatShape(std::int64_t rows, std::int64_t cols, bool vector)
{
    if (vector) return QStringLiteral("[%1]").arg(rows);
    return QStringLiteral("[%1 x %2]").arg(rows).arg(cols);
}

QString formatValue(double value)
{
    if (std::isnan(value)) return QStringLiteral("n/a");
    return QString::number(value, 'g', 4);
}

}  // namespace qs::gui
