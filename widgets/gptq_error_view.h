// GPTQ's quantization error per input column of the selected experiment's selected linear
// (LinearRecord.gptq_column_error: the loss summed over rows, stored in the original column
// order). Quantization groups are shaded and their boundaries marked; with act-order the groups
// come from gptq_g_idx and are contiguous only in processing order, which a toggle plots
// (columns in gptq_perm order). The Hessian diagonal, by which act-order sorts the columns, can
// be overlaid on a second log axis. Linears that GPTQ did not quantize show a placeholder.
#pragma once

#include <vector>

#include <QString>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include "widgets/figure_view.h"

class QCheckBox;
class QCPBars;
class QCPGraph;
class QLabel;
class QStackedWidget;

namespace qs::gui {

class SessionModel;

class GptqColumnErrorView : public QWidget, public FigureView {
    Q_OBJECT

public:
    explicit GptqColumnErrorView(SessionModel* model, QWidget* parent = nullptr);

    // Plots columns in GPTQ's processing order (gptq_perm) instead of the original order.
    // Without a permutation (no act-order) both orders are the same.
    void setProcessingOrder(bool on);
    bool processingOrder() const { return m_processingOrder; }
    void setHessianVisible(bool on);
    bool hessianVisible() const { return m_hessianVisible; }

    void refresh();

    bool showsPlaceholder() const;
    QString placeholderText() const;
    // Plotted positions p (x) at which a new quantization group starts (p > 0); empty when
    // the groups interleave in the plotted order (act-order in original order).
    QVector<int> groupBoundaries() const { return m_boundaries; }
    bool groupsInterleaved() const { return m_interleaved; }
    // Original column plotted at each position.
    const std::vector<std::int64_t>& plottedColumns() const { return m_order; }
    QCPBars* errorBars() const { return m_bars; }
    QCPGraph* hessianGraph() const { return m_hessian; }
    QCheckBox* processingOrderBox() const { return m_orderBox; }
    QCheckBox* hessianBox() const { return m_hessianBox; }

    // FigureView
    QCustomPlot* figurePlot() const override;
    QString figureName() const override;
    QString figureCsv() const override;
    void applyFigureStyle(const FigureStyle& style) override;
    bool hasFigure() const override { return !m_error.empty(); }

private:
    void scheduleRefresh();
    void showPlaceholder(const QString& text);
    void replot();
    void drawGroups();
    void applyStyle();
    int groupOf(std::int64_t column) const;

    SessionModel* m_model;
    bool m_processingOrder = false;
    bool m_hessianVisible = false;
    int m_layer = -1;
    QString m_module;
    // Copies of the record's vectors (the model's records may move when experiments are added).
    std::vector<float> m_error;
    std::vector<std::int64_t> m_perm;
    std::vector<std::int32_t> m_gIdx;
    std::vector<float> m_hessianDiag;
    int m_groupSize = 0;
    std::vector<std::int64_t> m_order;
    QVector<int> m_boundaries;
    bool m_interleaved = false;
    FigureStyle m_style;

    QCheckBox* m_orderBox = nullptr;
    QCheckBox* m_hessianBox = nullptr;
    QStackedWidget* m_stack = nullptr;
    QLabel* m_placeholder = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPBars* m_bars = nullptr;
    QCPGraph* m_hessian = nullptr;
    QTimer m_refreshTimer;
};

}  // namespace qs::gui
