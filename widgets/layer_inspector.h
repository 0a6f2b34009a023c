// Right-hand panel for the selected linear of an open study: what it is (layer, module, shape,
// selected experiment), the experiment's error numbers for it, and four plots: the weight and
// activation histograms across stages, the per-channel absmax at a chosen stage, and GPTQ's
// per-column error. Follows SessionModel's selection like every view; refills are coalesced
// to one per event-loop pass and announced with shown().
#pragma once

#include <QList>
#include <QString>
#include <QTimer>
#include <QWidget>

class QComboBox;
class QLabel;

namespace qs::gui {

class ChannelAbsmaxView;
class FigureView;
class GptqColumnErrorView;
class HistogramView;
class SessionModel;

class LayerInspector : public QWidget {
    Q_OBJECT

public:
    explicit LayerInspector(SessionModel* model, QWidget* parent = nullptr);

    HistogramView* weightHistogram() const { return m_weights; }
    HistogramView* activationHistogram() const { return m_activations; }
    ChannelAbsmaxView* channelAbsmax() const { return m_channels; }
    GptqColumnErrorView* gptqError() const { return m_gptq; }
    // The four plot views, for the figure exporter.
    QList<FigureView*> figureViews() const;
    QComboBox* binningCombo() const { return m_binning; }

    QString titleText() const;    // "Layer 4 · mlp.down_proj · [64 x 172]"
    QString numbersText() const;  // the experiment's numbers for this linear, plain text

    // Refills every plot from the model now; shown() follows once the panel is laid out.
    void refresh();

signals:
    // After the title, numbers and all plots were refilled and replotted for this linear and
    // the resulting layout applied (layer -1 and an empty module when nothing is selected).
    void shown(int layer, const QString& module);

private:
    void scheduleRefresh();
    void updateTitle();
    void updateNumbers();

    SessionModel* m_model;
    QLabel* m_title = nullptr;
    QLabel* m_experiment = nullptr;
    QLabel* m_numbers = nullptr;
    QComboBox* m_binning = nullptr;
    HistogramView* m_weights = nullptr;
    HistogramView* m_activations = nullptr;
    ChannelAbsmaxView* m_channels = nullptr;
    GptqColumnErrorView* m_gptq = nullptr;
    QTimer m_refreshTimer;
};

}  // namespace qs::gui
