// Greedy placement of text labels beside point markers in pixel space (scatter plots such as the
// Pareto view). Each label tries eight places right next to its point (right, left, above,
// below, the diagonals) and takes the first that is free. A required label, finding none, also
// tries rings farther out in sixteen directions, with a leader line to its point, and takes the
// place with the least cost: covering lines and markers, plus a price for each ring out. An
// optional label stays next to its point, on a free place, or is not drawn. No label covers
// text, no leader crosses text or another leader, and labels stay inside the plot area.
//
// A label must name its own point and no other, or it is not drawn: without a leader, every
// other marker is clearly farther from it than its own; with a leader, it keeps clear of every
// other marker and its leader passes none. A label whose marker lies on a marker that already
// has a label is not drawn (nobody could tell which of the two it names).
#pragma once

#include <vector>

#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QVector>

namespace qs::gui {

struct LabelRequest {
    QPointF anchor;  // the point's centre
    QSizeF size;     // the text's bounding box
    bool required = false;
};

struct LabelPlacement {
    bool visible = false;
    QRectF rect;
    bool leader = false;  // draw a line from leaderFrom (label edge) to leaderTo (marker edge)
    QPointF leaderFrom, leaderTo;
};

// What the labels must fit around, in pixels.
struct LabelScene {
    QRectF area;                // labels stay inside (the axis rect)
    double markerRadius = 0;    // around an anchor, covered by its marker
    double gap = 0;             // between a marker and its adjacent label
    std::vector<QRectF> lines;  // lines and rings: a label avoids them where it can
    std::vector<QRectF> texts;  // other text (a reference line's caption): never covered
    std::vector<QPointF> unlabelledMarkers;  // markers without a label, which none may seem to name
};

// Labels are placed in the order given (put the required ones first). A required label may
// cover lines and markers when nothing else is free, never text.
std::vector<LabelPlacement> placePointLabels(const std::vector<LabelRequest>& labels,
                                             const LabelScene& scene);

// Small boxes along a polyline so that labels avoid crossing it (cost grows with the crossing).
void addPolylineObstacles(std::vector<QRectF>& obstacles, const QVector<QPointF>& points,
                          double thickness);

// Distance from `point` to the nearest point of `rect` (0 inside it).
double distanceToRect(const QRectF& rect, const QPointF& point);

}  // namespace qs::gui
