// Value histogram of the selected linear's weights or activations, one outlined step line per
// statistics stage: the full-precision baseline ("original") and the selected experiment's
// stages ("input", "smoothquant", "awq", "quantized"), so the shape before and after each
// transform lies on one set of axes. Counts are on a log axis (the tails decide a quantization
// grid); empty bins are gaps, never zeros. Bins are either the linear ones over [min, max] or
// those over log10 |x| (TensorStats.histogram / log_histogram). A header above the plot gives
// per stage the excess kurtosis (normal = 0), the absmax and the outlier-channel count.
#pragma once

#include <vector>

#include <QString>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include "core/analysis/stats_types.h"
#include "widgets/figure_view.h"
#include "widgets/linear_stages.h"

class QCPGraph;
class QLabel;

namespace qs::gui {

class SessionModel;

class HistogramView : public QWidget, public FigureView {
    Q_OBJECT

public:
    enum class Binning { Linear, Log10Abs };

    explicit HistogramView(SessionModel* model, QWidget* parent = nullptr);

    void setTensorKind(TensorKind kind);
    TensorKind tensorKind() const { return m_kind; }
    void setBinning(Binning binning);
    Binning binning() const { return m_binning; }

    // Refills from the model now (the model's signals schedule this for the next event loop
    // pass, so a burst of selection changes redraws once).
    void refresh();

    // Stages plotted, in order; graph(i) of the plot belongs to plottedStages()[i]. A graph
    // outlines each run of non-empty bins: (left edge, floorCount()), then (left, count) and
    // (right, count) per bin, then (right edge, floorCount()); runs are separated by a NaN.
    static double floorCount();
    QStringList plottedStages() const;
    QCPGraph* stageGraph(const QString& stage) const;
    QString headerText() const;

    // FigureView
    QCustomPlot* figurePlot() const override { return m_plot; }
    QString figureName() const override;
    QString figureCsv() const override;
    void applyFigureStyle(const FigureStyle& style) override;
    bool hasFigure() const override { return !m_stages.empty(); }

private:
    // A copy of what was plotted: the model's records may move when experiments are added.
    struct Plotted {
        QString stage;
        qs::BinnedCounts bins;
        double kurtosisExcess = 0;
        double absmax = 0;
        int outlierChannels = 0;
        double outlierK = 0;
        std::int64_t zeros = 0;
    };

    void scheduleRefresh();
    void plotStages();
    void updateHeader();
    void updateLabels();

    SessionModel* m_model;
    TensorKind m_kind = TensorKind::Weights;
    Binning m_binning = Binning::Linear;
    int m_layer = -1;
    QString m_module;
    std::vector<Plotted> m_stages;
    QLabel* m_header = nullptr;
    QCustomPlot* m_plot = nullptr;
    FigureStyle m_style;
    QTimer m_refreshTimer;
};

}  // namespace qs::gui
