// ParetoView's point labels: placed in pixels after every layout (resize, zoom, export at
// print size) by widgets/figure_labels.h, so that each names only its own point.
#include <algorithm>

#include <QFontMetricsF>
#include <qcustomplot.h>

#include "widgets/figure_labels.h"
#include "widgets/figure_style.h"
#include "widgets/pareto_view.h"
#include "widgets/session_model.h"

namespace qs::gui {

double ParetoView::markerRadiusPixels()
{
    return pointsToPixels(FigureStrokes::marker) / 2 + pointsToPixels(1);
}

void ParetoView::placeLabels()
{
    LabelScene scene;
    scene.area = QRectF(m_plot->axisRect()->rect()).adjusted(1, 1, -1, -1);
    scene.markerRadius = markerRadiusPixels();
    scene.gap = pointsToPixels(1.5);
    for (const Point& p : m_points)
        if (!p.label) scene.unlabelledMarkers.push_back(pointPixel(p.id));
    // The selection rings are larger than the markers.
    const double ring = (pointsToPixels(FigureStrokes::marker) + pointsToPixels(5)) / 2;
    for (const QString& id : {m_model->selectedExperiment(), m_model->comparedExperiment()})
        if (findPoint(id)) {
            const QPointF c = pointPixel(id);
            scene.lines.emplace_back(c.x() - ring, c.y() - ring, 2 * ring, 2 * ring);
        }
    QVector<QPointF> frontier;
    for (int i : m_frontierOrder)
        frontier << pointPixel(m_points[std::size_t(i)].id);
    addPolylineObstacles(scene.lines, frontier, 2);
    if (m_referenceLabel) {
        const double y = m_plot->yAxis->coordToPixel(m_reference.ppl);
        addPolylineObstacles(scene.lines, {{scene.area.left(), y}, {scene.area.right(), y}}, 3);
        const QPointF anchor = m_referenceLabel->position->pixelPosition();
        const QSizeF size =
            QFontMetricsF(m_referenceLabel->font()).boundingRect(m_referenceLabel->text()).size();
        scene.texts.emplace_back(anchor.x(), anchor.y() - size.height(), size.width(),
                                 size.height());
    }

    // Frontier labels first (each placed if it can be), then the others; each group from the
    // best perplexity down, so the best points, the ones a reader looks for, get the room.
    std::vector<Point*> order;
    for (Point& p : m_points)
        order.push_back(&p);
    std::stable_sort(order.begin(), order.end(), [](const Point* a, const Point* b) {
        return a->frontier != b->frontier ? a->frontier : a->ppl < b->ppl;
    });
    std::vector<LabelRequest> requests;
    std::vector<Point*> labelled;
    for (Point* p : order) {
        if (!p->label) continue;
        const QSizeF size = QFontMetricsF(p->label->font()).boundingRect(p->label->text()).size();
        requests.push_back({pointPixel(p->id), size + QSizeF(2, 0), p->frontier});
        labelled.push_back(p);
    }
    const std::vector<LabelPlacement> placements = placePointLabels(requests, scene);
    for (std::size_t i = 0; i < labelled.size(); ++i) {
        const LabelPlacement& placement = placements[i];
        Point* p = labelled[i];
        p->label->setVisible(placement.visible);
        p->leader->setVisible(placement.visible && placement.leader);
        if (placement.visible) p->label->position->setCoords(placement.rect.center());
        if (placement.leader) {
            p->leader->start->setCoords(placement.leaderFrom);
            p->leader->end->setCoords(placement.leaderTo);
        }
    }
}

QStringList ParetoView::visibleLabels() const
{
    QStringList labels;
    for (const Point& p : m_points)
        if (p.label && p.label->visible()) labels << p.label->text();
    return labels;
}

std::vector<ParetoView::DrawnLabel> ParetoView::drawnLabels() const
{
    std::vector<DrawnLabel> drawn;
    for (const Point& p : m_points) {
        if (!p.label || !p.label->visible()) continue;
        const QSizeF size = QFontMetricsF(p.label->font()).boundingRect(p.label->text()).size();
        QRectF rect(QPointF(), size);
        rect.moveCenter(p.label->position->pixelPosition());
        drawn.push_back({p.id, rect, p.leader->visible(), p.leader->end->pixelPosition()});
    }
    return drawn;
}

}  // namespace qs::gui
