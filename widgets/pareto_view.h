// Size against perplexity of every experiment on one dataset: one point per experiment, coloured
// by method (the recipe name's first part: rtn, gptq, awq+gptq, ...), the Pareto frontier
// (core/analysis/pareto.h: smaller and better, both minimised) drawn as a black line through
// ringed points, and each point labelled with its recipe name (frontier points always; others
// in a smaller grey font only where they fit without overlapping). The unquantized reference
// (an experiment that quantized no linear) is a dashed horizontal line by default, because its
// size would squeeze every quantized point into a corner; the frontier then covers the
// quantized experiments. Hover shows the experiment's details; a click selects it in the
// SessionModel. The selected experiment has a black ring, the compared one a vermillion square.
// A label names only its own point (widgets/figure_labels.h): it sits right next to it, or
// farther away with a leader line, or is not drawn.
#pragma once

#include <vector>

#include <QPointF>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <QWidget>

#include "widgets/figure_view.h"

class QCPGraph;
class QCPItemLine;
class QCPItemText;
class QCheckBox;
class QComboBox;
class QMouseEvent;

namespace qs::gui {

class SessionModel;

class ParetoView : public QWidget, public FigureView {
    Q_OBJECT

public:
    enum class SizeAxis { Megabytes, BitsPerWeight };

    explicit ParetoView(SessionModel* model, QWidget* parent = nullptr);

    // Dataset labels found in the experiments' perplexity records, in order of appearance.
    QStringList datasets() const;
    QString dataset() const { return m_dataset; }
    // Ignored for a label no experiment has.
    void setDataset(const QString& label);
    SizeAxis sizeAxis() const { return m_sizeAxis; }
    void setSizeAxis(SizeAxis axis);
    bool logPerplexity() const { return m_logPpl; }
    void setLogPerplexity(bool log);
    // Labels for points off the frontier (where they fit); frontier points are always labelled.
    void setLabelAllPoints(bool all);
    void setReferenceAsLine(bool line);

    // Rebuilds the plot from the model now (the model's signals call it).
    void refresh();

    // What is plotted, for tests and the exporter.
    QStringList plottedIds() const;   // scatter points, in experiment order
    QStringList frontierIds() const;  // by size ascending
    QString referenceId() const;      // drawn as a line; empty when none is
    // Position of an experiment's point in the plot widget's pixels (after a layout/replot);
    // (-1, -1) when it is not plotted.
    QPointF pointPixel(const QString& id) const;
    // The experiment whose point is nearest to `pixel` within a few pixels; the reference line
    // counts when no point is near. Empty when none.
    QString experimentAt(const QPointF& pixel) const;
    QString tooltipText(const QString& id) const;
    // Labels currently drawn (text of each QCPItemText that is visible).
    QStringList visibleLabels() const;
    // Where each drawn label is, in the plot widget's pixels (after a replot).
    struct DrawnLabel {
        QString id;
        QRectF rect;
        bool leader = false;
        QPointF leaderTo;  // the marker end of the leader
    };
    std::vector<DrawnLabel> drawnLabels() const;
    // Radius around a point's centre that its marker covers, in pixels.
    static double markerRadiusPixels();

    // FigureView
    QCustomPlot* figurePlot() const override { return m_plot; }
    QString figureName() const override;
    QString figureCsv() const override;
    void applyFigureStyle(const FigureStyle& style) override;
    bool hasFigure() const override { return !m_points.empty(); }

private:
    struct Point {
        QString id;
        QString name;
        QString family;
        double sizeBytes = 0;
        double bitsPerWeight = 0;
        double ppl = 0;
        double x = 0;  // sizeBytes / 1e6 or bitsPerWeight
        bool frontier = false;
        QCPItemText* label = nullptr;
        QCPItemLine* leader = nullptr;  // to a label set apart from its point
    };

    void updateDatasetCombo();
    void collectPoints();
    void buildPlot();
    void updateHighlights();
    void updateRanges();
    void restyle();
    void placeLabels();
    void resizeEvent(QResizeEvent* event) override;
    void onMouseMove(QMouseEvent* event);
    void onMousePress(QMouseEvent* event);
    const Point* findPoint(const QString& id) const;

    SessionModel* m_model;
    QString m_dataset;
    SizeAxis m_sizeAxis = SizeAxis::Megabytes;
    bool m_logPpl = false;
    bool m_labelAll = true;
    bool m_referenceAsLine = true;
    FigureStyle m_style;

    std::vector<Point> m_points;
    std::vector<int> m_frontierOrder;  // indices into m_points
    bool m_hasReference = false;
    Point m_reference;

    QComboBox* m_datasetCombo = nullptr;
    QComboBox* m_axisCombo = nullptr;
    QCheckBox* m_logCheck = nullptr;
    QCheckBox* m_labelCheck = nullptr;
    QCheckBox* m_referenceCheck = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPGraph* m_frontierGraph = nullptr;
    QCPGraph* m_selectedGraph = nullptr;
    QCPGraph* m_comparedGraph = nullptr;
    // Legend entries for the two rings, drawn small enough for the legend's icon (a ring of
    // the plot's size would be clipped there).
    QCPGraph* m_selectedLegend = nullptr;
    QCPGraph* m_comparedLegend = nullptr;
    std::vector<QCPGraph*> m_familyGraphs;
    QCPItemText* m_referenceLabel = nullptr;
};

}  // namespace qs::gui
