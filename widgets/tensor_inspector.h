// Right-hand view of the main window: what one weight tensor looks like before quantization.
// A header with name, shape, dtype, range and kurtosis, then three plots: the value histogram
// (log counts, so the tails that decide a quantization grid stay visible), and the absmax of
// every output channel (rows) and every input channel (columns), where outlier channels show.
#pragma once

#include <QString>
#include <QWidget>

#include "core/analysis/weight_stats.h"

class QCustomPlot;
class QLabel;

namespace qs::gui {

class TensorInspector : public QWidget {
    Q_OBJECT

public:
    explicit TensorInspector(QWidget* parent = nullptr);

    // Announces the tensor whose stats are being computed (plots are cleared meanwhile).
    void showPending(const QString& tensorName, const QString& shapeText, const QString& dtype);
    void showStats(const qs::WeightStats& stats);
    void showError(const QString& tensorName, const QString& message);
    void clear();

    QString headerText() const;
    QString kurtosisText() const;
    QCustomPlot* histogramPlot() const { return m_histogram; }
    QCustomPlot* outChannelPlot() const { return m_outChannels; }
    QCustomPlot* inChannelPlot() const { return m_inChannels; }

signals:
    // After the plots of `tensorName` have been replotted with its data.
    void statsShown(const QString& tensorName);

private:
    void setHeader(const QString& title, const QString& details);

    QString m_tensorName;
    QString m_shapeText;
    QString m_dtype;
    QLabel* m_title = nullptr;
    QLabel* m_details = nullptr;
    QLabel* m_kurtosis = nullptr;
    QCustomPlot* m_histogram = nullptr;
    QCustomPlot* m_outChannels = nullptr;
    QCustomPlot* m_inChannels = nullptr;
};

}  // namespace qs::gui
