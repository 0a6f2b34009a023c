// Error across depth: two panels side by side over the decoder layers, the hidden-state cosine
// after each layer (ExperimentRecord.depth: quantized model against full precision on the
// calibration windows) and the output SQNR of the layer's linears (the mean over the layer's
// quantized linears of LinearRecord.output_sqnr_db, in dB). One series for the selected
// experiment (blue, circles), one for the compared experiment (vermillion, dashed, squares) and
// optionally every other quantized experiment in light grey beneath them for context.
#pragma once

#include <vector>

#include <QString>
#include <QStringList>
#include <QWidget>

#include "core/analysis/experiment_record.h"
#include "widgets/figure_view.h"

class QCPAxisRect;
class QCheckBox;

namespace qs::gui {

class SessionModel;

class DepthErrorView : public QWidget, public FigureView {
    Q_OBJECT

public:
    explicit DepthErrorView(SessionModel* model, QWidget* parent = nullptr);

    bool showAllExperiments() const { return m_showAll; }
    void setShowAllExperiments(bool show);

    // Rebuilds the plot from the model now (the model's signals call it).
    void refresh();

    // Experiment ids plotted: selected, compared, then the others (when shown).
    QStringList plottedExperiments() const;
    QCPAxisRect* cosineRect() const { return m_cosineRect; }
    QCPAxisRect* sqnrRect() const { return m_sqnrRect; }

    // Per decoder layer, the mean output_sqnr_db over the layer's quantized linears (method not
    // empty, finite value); NaN for a layer without one.
    static std::vector<double> meanLinearSqnrDb(const qs::ExperimentRecord& experiment,
                                                int numLayers);

    // FigureView
    QCustomPlot* figurePlot() const override { return m_plot; }
    QString figureName() const override { return QStringLiteral("depth-error"); }
    QString figureCsv() const override;
    void applyFigureStyle(const FigureStyle& style) override;
    bool hasFigure() const override { return !m_series.empty(); }

private:
    enum class Role { Selected, Compared, Other };
    struct Series {
        QString id;
        QString name;
        Role role = Role::Other;
        std::vector<double> cosine, mse, sqnr;  // per layer, NaN where missing
    };

    void collectSeries();
    void buildPlot();
    void restyle();
    void updateLegendWrap();
    void resizeEvent(QResizeEvent* event) override;

    SessionModel* m_model;
    bool m_showAll = true;
    FigureStyle m_style;
    std::vector<Series> m_series;

    QCheckBox* m_allCheck = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPAxisRect* m_cosineRect = nullptr;
    QCPAxisRect* m_sqnrRect = nullptr;
};

}  // namespace qs::gui
