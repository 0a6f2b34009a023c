// Per-linear "badges" for the model tree: the numbers that tell which layers a quantizer will
// struggle with, each ranked across the model so that problem layers stand out.
//   activation kurtosis  excess kurtosis (normal = 0) of the linear's input activations in
//                        the full-precision baseline (stage "original")
//   outlier channels     baseline activation channels above outlier_k x the median absmax
//   output SQNR          the selected experiment's output SQNR in dB (lower is worse)
// Levels by rank among the linears that have the number: the worst ~10 % (at least one) are
// Worst, the next ~15 % Elevated, the rest Neutral; a number no worse than the median, and an
// outlier count of zero, is never flagged (a model without outliers has no problem layer).
// Ties share the level of the better-ranked value. Plain data, computed from the SessionData.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include <QColor>
#include <QString>

#include "core/analysis/experiment_record.h"

namespace qs::gui {

enum class BadgeMetric { ActivationKurtosis, OutlierChannels, OutputSqnr };
enum class BadgeLevel { Neutral = 0, Elevated = 1, Worst = 2 };

struct Badge {
    double value = std::numeric_limits<double>::quiet_NaN();  // NaN: not available
    BadgeLevel level = BadgeLevel::Neutral;
    bool valid() const { return value == value; }
};

struct LinearBadge {
    int layer = 0;
    QString module;  // for a layer summary: the module with the worst value of each metric
    Badge kurtosis, outliers, sqnr;
    QString kurtosisModule, outliersModule, sqnrModule;  // layer summaries only
    const Badge& badge(BadgeMetric metric) const;
    Badge& badge(BadgeMetric metric);
};

// Values at or beyond which a linear gets a level (in the metric's own direction).
struct BadgeThresholds {
    int ranked = 0;  // linears that have the number
    double worst = std::numeric_limits<double>::quiet_NaN();
    double elevated = std::numeric_limits<double>::quiet_NaN();
};

class LinearBadges {
public:
    static constexpr double k_worstFraction = 0.10;
    static constexpr double k_elevatedFraction = 0.25;  // cumulative: worst + elevated

    LinearBadges() = default;
    // Baseline numbers from data.baseline; SQNR from the experiment `experimentId` (empty or
    // unknown: no SQNR badges).
    static LinearBadges compute(const qs::SessionData& data, const std::string& experimentId);

    const std::vector<LinearBadge>& linears() const { return m_linears; }
    const LinearBadge* linear(int layer, const QString& module) const;
    // Worst value and level of each metric over the layer's linears (layer = -1 if none).
    LinearBadge layerSummary(int layer) const;
    const BadgeThresholds& thresholds(BadgeMetric metric) const;
    QString experimentName() const { return m_experimentName; }

    // Cell text ("12.3", "4", "23.5"; empty when not available).
    static QString text(BadgeMetric metric, const Badge& badge);
    // What the number is, its value, and the thresholds of the levels.
    QString tooltip(BadgeMetric metric, const Badge& badge, const QString& worstModule = {}) const;
    static QString columnTitle(BadgeMetric metric);
    QString columnTooltip(BadgeMetric metric) const;
    // Okabe-Ito vermillion / orange backgrounds; invalid colour for Neutral (no fill).
    static QColor background(BadgeLevel level);
    static QColor foreground(BadgeLevel level);

private:
    void rank(BadgeMetric metric);

    std::vector<LinearBadge> m_linears;
    BadgeThresholds m_thresholds[3];
    double m_outlierK = 6;
    QString m_experimentName;
};

}  // namespace qs::gui
