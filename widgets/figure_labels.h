// Greedy placement of text labels beside point markers in pixel space (scatter plots such as the
// Pareto view): each label tries eight positions around its point (right, left, above, below,
// then the diagonals) and takes the first that overlaps nothing placed so far nor any obstacle
// (markers, lines), always inside the plot area. A required label also tries two rings farther
// out and, finding no free place, takes the position with the least overlap; an optional label
// stays adjacent to its point or is hidden. Labels set apart from their point get a leader.
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

// Labels are placed in the order given (put the required ones first). `markerRadius` is the
// radius around an anchor that no label may cover; `gap` the space between marker and text.
std::vector<LabelPlacement> placePointLabels(const std::vector<LabelRequest>& labels,
                                             const std::vector<QRectF>& obstacles,
                                             const QRectF& area, double markerRadius, double gap);

// Small boxes along a polyline so that labels avoid crossing it (cost grows with the crossing).
void addPolylineObstacles(std::vector<QRectF>& obstacles, const QVector<QPointF>& points,
                          double thickness);

}  // namespace qs::gui
