#include "widgets/figure_labels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs::gui {
namespace {

// Text over text is unreadable; text over a marker or a line only hides a little.
constexpr double k_labelWeight = 6;

struct Obstacle {
    QRectF rect;
    double weight = 1;
};

double overlapCost(const QRectF& rect, const std::vector<Obstacle>& taken)
{
    double cost = 0;
    for (const Obstacle& other : taken) {
        const QRectF common = rect.intersected(other.rect);
        if (!common.isEmpty()) cost += common.width() * common.height() * other.weight;
    }
    return cost;
}

QPointF nearestOnRect(const QRectF& rect, const QPointF& p)
{
    return {std::clamp(p.x(), rect.left(), rect.right()),
            std::clamp(p.y(), rect.top(), rect.bottom())};
}

double distance(const QPointF& a, const QPointF& b)
{
    return std::hypot(a.x() - b.x(), a.y() - b.y());
}

// A leader that crosses a marker or another label points at the wrong thing: its samples
// count as overlap.
double leaderCost(const QRectF& rect, const QPointF& anchor, double markerRadius,
                  const std::vector<Obstacle>& taken)
{
    const QPointF from = nearestOnRect(rect, anchor);
    const double length = distance(from, anchor);
    double cost = 0;
    // Up to the corner of the point's own marker box.
    for (double t = 0.5; t < length - markerRadius * 1.42; t += 2)
        for (const Obstacle& other : taken)
            if (other.rect.contains(from + (anchor - from) * (t / length)))
                cost += 4 * other.weight;
    return cost;
}

}  // namespace

std::vector<LabelPlacement> placePointLabels(const std::vector<LabelRequest>& labels,
                                             const std::vector<QRectF>& obstacles,
                                             const QRectF& area, double markerRadius, double gap)
{
    std::vector<LabelPlacement> placements(labels.size());
    std::vector<Obstacle> taken;
    for (const QRectF& rect : obstacles)
        taken.push_back({rect, 1});
    for (const LabelRequest& label : labels)
        taken.push_back({QRectF(label.anchor.x() - markerRadius, label.anchor.y() - markerRadius,
                                2 * markerRadius, 2 * markerRadius),
                         1});

    for (std::size_t i = 0; i < labels.size(); ++i) {
        const LabelRequest& label = labels[i];
        const QPointF c = label.anchor;
        if (!area.contains(c)) continue;  // scrolled out of view
        const double w = label.size.width(), h = label.size.height();
        QRectF best;
        double bestCost = std::numeric_limits<double>::max();
        // Optional labels stay next to their point: a leader across a cluster misleads.
        for (double ring : {0.0, 1.0, 2.2, 3.6}) {
            if (ring > 0 && !label.required) break;
            const double d = markerRadius + gap + ring * h;
            const QPointF centres[] = {
                {c.x() + d + w / 2, c.y()},     {c.x() - d - w / 2, c.y()},
                {c.x(), c.y() - d - h / 2},     {c.x(), c.y() + d + h / 2},
                {c.x() + d + w / 2, c.y() - d}, {c.x() + d + w / 2, c.y() + d},
                {c.x() - d - w / 2, c.y() - d}, {c.x() - d - w / 2, c.y() + d}};
            for (const QPointF& centre : centres) {
                QRectF rect(centre.x() - w / 2, centre.y() - h / 2, w, h);
                // Shifted inside the plot area: a label never leaves the plot.
                rect.moveLeft(
                    std::clamp(rect.left(), area.left(), std::max(area.left(), area.right() - w)));
                rect.moveTop(
                    std::clamp(rect.top(), area.top(), std::max(area.top(), area.bottom() - h)));
                const double cost =
                    overlapCost(rect, taken) + leaderCost(rect, c, markerRadius, taken);
                if (cost < bestCost) {
                    bestCost = cost;
                    best = rect;
                }
                if (cost == 0) break;
            }
            if (bestCost == 0) break;
        }
        if (bestCost > 0 && !label.required) continue;
        LabelPlacement& placement = placements[i];
        placement.visible = true;
        placement.rect = best;
        taken.push_back({best, k_labelWeight});
        const QPointF from = nearestOnRect(best, c);
        const double reach = distance(from, c);
        if (reach > markerRadius + gap * 2) {
            placement.leader = true;
            placement.leaderFrom = from;
            placement.leaderTo = c + (from - c) * (markerRadius / reach);
        }
    }
    return placements;
}

void addPolylineObstacles(std::vector<QRectF>& obstacles, const QVector<QPointF>& points,
                          double thickness)
{
    for (int i = 1; i < points.size(); ++i) {
        const QPointF a = points[i - 1], b = points[i];
        const int steps = std::max(1, int(std::ceil(distance(a, b) / thickness)));
        for (int k = 0; k <= steps; ++k) {
            const QPointF p = a + (b - a) * (double(k) / steps);
            obstacles.emplace_back(p.x() - thickness / 2, p.y() - thickness / 2, thickness,
                                   thickness);
        }
    }
}

}  // namespace qs::gui
