#include "widgets/linear_badges.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include <QCoreApplication>

#include "widgets/figure_style.h"

namespace qs::gui {
namespace {

constexpr int k_metrics = 3;

int indexOf(BadgeMetric metric)
{
    return static_cast<int>(metric);
}

// Larger is worse for every metric after this flip.
double badness(BadgeMetric metric, double value)
{
    return metric == BadgeMetric::OutputSqnr ? -value : value;
}

QString tr(const char* text)
{
    return QCoreApplication::translate("qs::gui::LinearBadges", text);
}

int countFor(double fraction, int n)
{
    // The epsilon keeps 0.1 x 30 = 3.0000000000000004 from rounding up to 4.
    return std::max(1, static_cast<int>(std::ceil(fraction * n - 1e-9)));
}

}  // namespace

const Badge& LinearBadge::badge(BadgeMetric metric) const
{
    switch (metric) {
        case BadgeMetric::ActivationKurtosis:
            return kurtosis;
        case BadgeMetric::OutlierChannels:
            return outliers;
        case BadgeMetric::OutputSqnr:
            break;
    }
    return sqnr;
}

Badge& LinearBadge::badge(BadgeMetric metric)
{
    return const_cast<Badge&>(std::as_const(*this).badge(metric));
}

LinearBadges LinearBadges::compute(const qs::SessionData& data, const std::string& experimentId)
{
    LinearBadges badges;
    for (const auto& record : data.baseline) {
        LinearBadge b;
        b.layer = record.layer;
        b.module = QString::fromStdString(record.module);
        const auto it = record.activation_stats.find("original");
        if (it != record.activation_stats.end() && !it->second.empty()) {
            const auto& stats = it->second;
            if (std::isfinite(stats.kurtosis_pearson)) b.kurtosis.value = stats.kurtosis_excess();
            b.outliers.value = static_cast<double>(stats.outlier_channels.size());
            badges.m_outlierK = stats.outlier_k;
        }
        badges.m_linears.push_back(std::move(b));
    }
    const qs::ExperimentRecord* experiment = nullptr;
    for (const auto& e : data.experiments)
        if (!experimentId.empty() && e.id == experimentId) experiment = &e;
    if (experiment) {
        badges.m_experimentName = QString::fromStdString(experiment->name);
        for (const auto& record : experiment->linears) {
            if (record.method.empty() || !std::isfinite(record.output_sqnr_db)) continue;
            const QString module = QString::fromStdString(record.module);
            auto found = std::find_if(badges.m_linears.begin(), badges.m_linears.end(),
                                      [&](const LinearBadge& l) {
                                          return l.layer == record.layer && l.module == module;
                                      });
            LinearBadge* b = found == badges.m_linears.end() ? nullptr : &*found;
            if (!b) {
                // A linear the baseline lacks (a session without baseline statistics).
                badges.m_linears.push_back({record.layer, module, {}, {}, {}, {}, {}, {}});
                b = &badges.m_linears.back();
            }
            b->sqnr.value = record.output_sqnr_db;
        }
    }
    for (int m = 0; m < k_metrics; ++m)
        badges.rank(static_cast<BadgeMetric>(m));
    return badges;
}

void LinearBadges::rank(BadgeMetric metric)
{
    std::vector<double> sorted;
    for (const auto& b : m_linears)
        if (b.badge(metric).valid()) sorted.push_back(badness(metric, b.badge(metric).value));
    const int n = static_cast<int>(sorted.size());
    BadgeThresholds& thresholds = m_thresholds[indexOf(metric)];
    thresholds = BadgeThresholds{};
    thresholds.ranked = n;
    if (n == 0) return;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    const double median = 0.5 * (sorted[static_cast<std::size_t>((n - 1) / 2)] +
                                 sorted[static_cast<std::size_t>(n / 2)]);
    const int worstCount = countFor(k_worstFraction, n);
    const int elevatedCount = std::max(worstCount, countFor(k_elevatedFraction, n));
    const double worst = sorted[static_cast<std::size_t>(worstCount - 1)];
    const double elevated = sorted[static_cast<std::size_t>(elevatedCount - 1)];
    thresholds.worst = badness(metric, worst);
    thresholds.elevated = badness(metric, elevated);

    for (auto& b : m_linears) {
        Badge& badge = b.badge(metric);
        if (!badge.valid()) continue;
        const double bad = badness(metric, badge.value);
        const bool flaggable =
            bad > median && (metric != BadgeMetric::OutlierChannels || badge.value > 0);
        if (flaggable && bad >= worst)
            badge.level = BadgeLevel::Worst;
        else if (flaggable && bad >= elevated)
            badge.level = BadgeLevel::Elevated;
        else
            badge.level = BadgeLevel::Neutral;
    }
}

const LinearBadge* LinearBadges::linear(int layer, const QString& module) const
{
    for (const auto& b : m_linears)
        if (b.layer == layer && b.module == module) return &b;
    return nullptr;
}

LinearBadge LinearBadges::layerSummary(int layer) const
{
    LinearBadge summary;
    summary.layer = -1;
    for (const auto& b : m_linears) {
        if (b.layer != layer) continue;
        summary.layer = layer;
        for (int m = 0; m < k_metrics; ++m) {
            const auto metric = static_cast<BadgeMetric>(m);
            const Badge& badge = b.badge(metric);
            Badge& worst = summary.badge(metric);
            if (!badge.valid()) continue;
            if (worst.valid() && badness(metric, badge.value) <= badness(metric, worst.value))
                continue;
            worst = badge;
            (metric == BadgeMetric::ActivationKurtosis ? summary.kurtosisModule
             : metric == BadgeMetric::OutlierChannels  ? summary.outliersModule
                                                       : summary.sqnrModule) = b.module;
        }
    }
    return summary;
}

const BadgeThresholds& LinearBadges::thresholds(BadgeMetric metric) const
{
    return m_thresholds[indexOf(metric)];
}

QString LinearBadges::text(BadgeMetric metric, const Badge& badge)
{
    if (!badge.valid()) return {};
    if (metric == BadgeMetric::OutlierChannels) return QString::number(badge.value, 'f', 0);
    return QString::number(badge.value, 'f', 1);
}

QString LinearBadges::columnTitle(BadgeMetric metric)
{
    switch (metric) {
        case BadgeMetric::ActivationKurtosis:
            return tr("Kurt.");
        case BadgeMetric::OutlierChannels:
            return tr("Outl.");
        case BadgeMetric::OutputSqnr:
            break;
    }
    return tr("SQNR");
}

QString LinearBadges::columnTooltip(BadgeMetric metric) const
{
    switch (metric) {
        case BadgeMetric::ActivationKurtosis:
            return tr(
                "Excess kurtosis (normal = 0) of each linear's input activations in the "
                "full-precision model. Heavy tails stretch an activation quantization "
                "grid.");
        case BadgeMetric::OutlierChannels:
            return tr("Input channels whose activation absmax exceeds %1 x the median channel "
                      "absmax (full-precision model): what SmoothQuant and AWQ address.")
                .arg(m_outlierK);
        case BadgeMetric::OutputSqnr:
            break;
    }
    if (m_experimentName.isEmpty())
        return tr("Output SQNR in dB of the selected experiment: select an experiment.");
    return tr("Output SQNR in dB of experiment \"%1\": 10 log10(sum y^2 / sum (y_q - y)^2) on "
              "the calibration data; lower is worse.")
        .arg(m_experimentName);
}

QString LinearBadges::tooltip(BadgeMetric metric, const Badge& badge,
                              const QString& worstModule) const
{
    QString tip = columnTooltip(metric);
    if (!badge.valid()) return tip + QLatin1Char('\n') + tr("Not available for this linear.");
    tip += QLatin1Char('\n');
    tip += worstModule.isEmpty()
               ? tr("Value: %1").arg(text(metric, badge))
               : tr("Worst in this layer: %1 (%2)").arg(text(metric, badge), worstModule);
    const BadgeThresholds& t = thresholds(metric);
    const QString cmp =
        metric == BadgeMetric::OutputSqnr ? QStringLiteral("<=") : QStringLiteral(">=");
    Badge worst{t.worst, BadgeLevel::Worst}, elevated{t.elevated, BadgeLevel::Elevated};
    tip += QLatin1Char('\n') +
           tr("Ranked among %1 linears: vermillion = worst 10 % (%2 %3), orange = next 15 % "
              "(%2 %4); never flagged when no worse than the median.")
               .arg(t.ranked)
               .arg(cmp, text(metric, worst), text(metric, elevated));
    return tip;
}

QColor LinearBadges::background(BadgeLevel level)
{
    switch (level) {
        case BadgeLevel::Worst:
            return paletteColor(PaletteColor::Vermillion);
        case BadgeLevel::Elevated:
            return paletteColor(PaletteColor::Orange);
        case BadgeLevel::Neutral:
            break;
    }
    return {};
}

QColor LinearBadges::foreground(BadgeLevel level)
{
    // Black reads better than white on both fills (contrast about 5:1 on vermillion, 10:1 on
    // orange; white on vermillion is under 4.5:1).
    return level == BadgeLevel::Neutral ? QColor() : QColor(Qt::black);
}

}  // namespace qs::gui
