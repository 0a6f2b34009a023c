// Two experiments side by side: a table of their recipe, perplexity, size and error summary
// (with the difference B - A), and the output SQNR of every quantized linear for both, so a
// user sees where one recipe wins over the other. A = the selected experiment, B = the
// compared one (SessionModel); either can be changed with the combo boxes.
#pragma once

#include <QWidget>

#include "widgets/figure_view.h"

class QComboBox;
class QCustomPlot;
class QTableWidget;

namespace qs {
struct ExperimentRecord;
}

namespace qs::gui {

class SessionModel;

class CompareView : public QWidget, public FigureView {
    Q_OBJECT

public:
    explicit CompareView(SessionModel* model, QWidget* parent = nullptr);

    QCustomPlot* figurePlot() const override { return m_plot; }
    QString figureName() const override { return QStringLiteral("compare-sqnr"); }
    QString figureCsv() const override;
    void applyFigureStyle(const FigureStyle& style) override;
    bool hasFigure() const override;

    QTableWidget* table() const { return m_table; }

private:
    void rebuildChoices();
    void refresh();
    void fillTable(const qs::ExperimentRecord* a, const qs::ExperimentRecord* b);
    void fillPlot(const qs::ExperimentRecord* a, const qs::ExperimentRecord* b);

    SessionModel* m_model;
    QComboBox* m_first = nullptr;
    QComboBox* m_second = nullptr;
    QTableWidget* m_table = nullptr;
    QCustomPlot* m_plot = nullptr;
    bool m_updating = false;
};

}  // namespace qs::gui
