#include "widgets/figure_labels.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QLineF>

namespace qs::gui {
namespace {

// Moving a label one ring (a text height) farther out, with a longer leader, costs as much as
// covering this many text heights squared of lines and markers.
constexpr double k_ringCost = 1.0;

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

double distanceToSegment(const QPointF& a, const QPointF& b, const QPointF& p)
{
    const QPointF ab = b - a;
    const double length2 = QPointF::dotProduct(ab, ab);
    const double t =
        length2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / length2, 0.0, 1.0) : 0.0;
    return distance(a + ab * t, p);
}

// A leader that crosses a line or a marker is harder to follow: its samples count as
// overlap.
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

struct Leader {
    bool drawn = false;
    QPointF from, to;  // label edge, marker edge
};

// A label farther from its marker than the gap is displaced: a leader shows whose it is.
Leader leaderFor(const QRectF& rect, const QPointF& anchor, double markerRadius, double gap)
{
    const QPointF from = nearestOnRect(rect, anchor);
    const double reach = distance(from, anchor);
    if (reach <= markerRadius + gap * 2) return {};
    return {true, from, anchor + (from - anchor) * (markerRadius / reach)};
}

// Whether the segment touches the rectangle (an end inside, or crossing an edge).
bool segmentCrossesRect(const QLineF& segment, const QRectF& rect)
{
    if (rect.contains(segment.p1()) || rect.contains(segment.p2())) return true;
    const QLineF edges[] = {{rect.topLeft(), rect.topRight()},
                            {rect.topRight(), rect.bottomRight()},
                            {rect.bottomRight(), rect.bottomLeft()},
                            {rect.bottomLeft(), rect.topLeft()}};
    return std::any_of(std::begin(edges), std::end(edges), [&](const QLineF& edge) {
        return segment.intersects(edge, nullptr) == QLineF::BoundedIntersection;
    });
}

// A leader that crosses text or another leader, or text over a leader, is hard to follow.
bool crossesDrawn(const QRectF& rect, const Leader& leader, const std::vector<QRectF>& texts,
                  const std::vector<QLineF>& leaders)
{
    const QLineF own(leader.from, leader.to);
    for (const QRectF& text : texts)
        if (text.intersects(rect) || (leader.drawn && segmentCrossesRect(own, text))) return true;
    for (const QLineF& other : leaders)
        if (segmentCrossesRect(other, rect) ||
            (leader.drawn && own.intersects(other, nullptr) == QLineF::BoundedIntersection))
            return true;
    return false;
}

// Whether a reader attaches the label at `rect` to `anchor` and to no other marker. Without a
// leader the eye takes the nearest marker, so every other one must be clearly farther; with a
// leader, the label must not sit against another marker nor its leader pass through one.
bool namesOnlyItsPoint(const QRectF& rect, const Leader& leader, const QPointF& anchor,
                       const std::vector<QPointF>& markers, double markerRadius, double gap)
{
    const double own = distanceToRect(rect, anchor);
    for (const QPointF& marker : markers) {
        if (distance(marker, anchor) < markerRadius) continue;  // its own marker's spot
        const double other = distanceToRect(rect, marker);
        if (!leader.drawn) {
            if (other < own + 2 * markerRadius) return false;
        } else if (other < markerRadius + 2 * gap ||
                   distanceToSegment(leader.from, leader.to, marker) < markerRadius + gap / 2) {
            return false;
        }
    }
    return true;
}

// Centres of label boxes whose nearest point to `anchor` lies about `d` away: right, left,
// above, below, then the diagonals; with 16 directions also the directions in between, where
// a box sits beside a steeper or flatter leader.
std::vector<QPointF> candidateCentres(const QPointF& anchor, const QSizeF& size, double d,
                                      int directions)
{
    const double w = size.width(), h = size.height();
    static const double order8[] = {0, 180, 270, 90, 315, 45, 225, 135};
    std::vector<double> angles(std::begin(order8), std::end(order8));
    if (directions > 8)
        for (double a : order8)
            angles.push_back(a + 22.5);
    std::vector<QPointF> centres;
    for (double degrees : angles) {
        const double a = degrees * M_PI / 180;
        const double dx = std::cos(a) * d, dy = std::sin(a) * d;
        // The box hangs off the end of the leader by the side that faces the anchor.
        const double cx =
            anchor.x() + dx + (std::abs(dx) < 0.38 * d ? 0 : std::copysign(w / 2, dx));
        const double cy =
            anchor.y() + dy + (std::abs(dy) < 0.38 * d ? 0 : std::copysign(h / 2, dy));
        centres.emplace_back(cx, cy);
    }
    return centres;
}

}  // namespace

double distanceToRect(const QRectF& rect, const QPointF& point)
{
    return distance(nearestOnRect(rect, point), point);
}

std::vector<LabelPlacement> placePointLabels(const std::vector<LabelRequest>& labels,
                                             const LabelScene& scene)
{
    const QRectF& area = scene.area;
    const double radius = scene.markerRadius, gap = scene.gap;
    std::vector<LabelPlacement> placements(labels.size());
    std::vector<QPointF> markers = scene.unlabelledMarkers;
    for (const LabelRequest& label : labels)
        markers.push_back(label.anchor);
    std::vector<Obstacle> taken;
    for (const QRectF& rect : scene.lines)
        taken.push_back({rect, 1});
    for (const QPointF& marker : markers)
        taken.push_back(
            {QRectF(marker.x() - radius, marker.y() - radius, 2 * radius, 2 * radius), 1});
    std::vector<QRectF> texts = scene.texts;
    std::vector<QLineF> leaders;
    std::vector<QPointF> labelledAnchors;

    for (std::size_t i = 0; i < labels.size(); ++i) {
        const LabelRequest& label = labels[i];
        const QPointF c = label.anchor;
        if (!area.contains(c)) continue;  // scrolled out of view
        // On a marker that already has a label: a second label could name either.
        if (std::any_of(labelledAnchors.begin(), labelledAnchors.end(),
                        [&](const QPointF& a) { return distance(a, c) < radius; }))
            continue;
        const double w = label.size.width(), h = label.size.height();
        QRectF best;
        Leader bestLeader;
        double bestScore = std::numeric_limits<double>::max();
        // Optional labels stay next to their point; required ones may move out along a leader,
        // each ring farther costing as much as covering a good part of a line.
        for (double ring : {0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.5, 8.0}) {
            if (ring > 0 && !label.required) break;
            const std::vector<QPointF> centres =
                candidateCentres(c, label.size, radius + gap + ring * h, ring > 0 ? 16 : 8);
            for (const QPointF& centre : centres) {
                QRectF rect(centre.x() - w / 2, centre.y() - h / 2, w, h);
                // Shifted inside the plot area: a label never leaves the plot.
                rect.moveLeft(
                    std::clamp(rect.left(), area.left(), std::max(area.left(), area.right() - w)));
                rect.moveTop(
                    std::clamp(rect.top(), area.top(), std::max(area.top(), area.bottom() - h)));
                const Leader leader = leaderFor(rect, c, radius, gap);
                if (crossesDrawn(rect, leader, texts, leaders) ||
                    !namesOnlyItsPoint(rect, leader, c, markers, radius, gap))
                    continue;
                const double overlap =
                    overlapCost(rect, taken) + leaderCost(rect, c, radius, taken);
                if (overlap > 0 && !label.required) continue;
                const double score = overlap + k_ringCost * ring * h * h;
                if (score < bestScore) {
                    bestScore = score;
                    best = rect;
                    bestLeader = leader;
                }
                if (score == 0) break;
            }
            if (bestScore == 0) break;
        }
        if (bestScore == std::numeric_limits<double>::max()) continue;  // nowhere unambiguous
        LabelPlacement& placement = placements[i];
        placement.visible = true;
        placement.rect = best;
        placement.leader = bestLeader.drawn;
        placement.leaderFrom = bestLeader.from;
        placement.leaderTo = bestLeader.to;
        texts.push_back(best);
        if (bestLeader.drawn) leaders.emplace_back(bestLeader.from, bestLeader.to);
        labelledAnchors.push_back(c);
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
