// Per-input-channel absmax of the selected linear's weights or activations at one statistics
// stage (TensorStats.in_absmax). Outlier channels (TensorStats.outlier_channels: absmax above
// outlier_k x the median channel absmax) are drawn in vermillion, the threshold as a dashed
// line, and the largest channels carry their index. Switching the stage from "original" to
// "smoothquant" or "awq" shows how those transforms flatten the activation outliers (and move
// them into the weights).
#pragma once

#include <vector>

#include <QString>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include "widgets/figure_view.h"
#include "widgets/linear_stages.h"

class QCPBars;
class QComboBox;

namespace qs::gui {

class SessionModel;

class ChannelAbsmaxView : public QWidget, public FigureView {
    Q_OBJECT

public:
    explicit ChannelAbsmaxView(SessionModel* model, QWidget* parent = nullptr);

    void setTensorKind(TensorKind kind);
    TensorKind tensorKind() const { return m_kind; }
    // Picks a stage among availableStages(); returns false (and changes nothing) otherwise.
    bool setStage(const QString& stage);
    QString stage() const { return m_stage; }
    QStringList availableStages() const { return m_available; }

    void refresh();

    // Bars of the channels at or below the threshold, and of the outlier channels.
    QCPBars* channelBars() const { return m_bars; }
    QCPBars* outlierBars() const { return m_outlierBars; }
    double thresholdValue() const { return m_threshold; }
    QComboBox* stageCombo() const { return m_stageCombo; }
    QComboBox* kindCombo() const { return m_kindCombo; }

    // FigureView
    QCustomPlot* figurePlot() const override { return m_plot; }
    QString figureName() const override;
    QString figureCsv() const override;
    void applyFigureStyle(const FigureStyle& style) override;
    bool hasFigure() const override { return !m_absmax.empty(); }

signals:
    void stageChanged(const QString& stage);

private:
    void scheduleRefresh();
    void fillStageCombo();
    void plotChannels();
    void labelTopChannels(const std::vector<std::int32_t>& top, double peak);

    SessionModel* m_model;
    TensorKind m_kind = TensorKind::Activations;
    QString m_stage = QStringLiteral("original");
    QStringList m_available;
    int m_layer = -1;
    QString m_module;
    // Copies of what is plotted (the model's records may move when experiments are added).
    std::vector<float> m_absmax;
    std::vector<bool> m_isOutlier;
    double m_threshold = 0;
    double m_outlierK = 0;

    QComboBox* m_kindCombo = nullptr;
    QComboBox* m_stageCombo = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPBars* m_bars = nullptr;
    QCPBars* m_outlierBars = nullptr;
    FigureStyle m_style;
    QTimer m_refreshTimer;
};

}  // namespace qs::gui
