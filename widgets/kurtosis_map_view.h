// Heat map of excess kurtosis (normal = 0; TensorStats::kurtosis_excess) per decoder layer (rows)
// and linear module (columns, short names: q, k, v, o, gate, up, down), of the weights or of the
// activations entering each linear. Source: the full-precision baseline (stage "original") or
// the selected experiment at one stage ("input", "smoothquant", "awq", "quantized"), so one can
// flip between the stages of a transform. Colours follow sign(k) * log10(1 + |k|) (a symmetric
// log scale: activation kurtosis spans 0 to thousands) on a viridis gradient; the colour bar is
// labelled in kurtosis and spans the baseline and every stage of the selected experiment, so
// colours compare across stages. Cells show their value when they are large enough for the text.
// A click on a cell selects that linear in the SessionModel; the selected linear is outlined.
#pragma once

#include <vector>

#include <QString>
#include <QStringList>
#include <QWidget>

#include "widgets/figure_view.h"
#include "widgets/linear_stages.h"

class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QCPItemText;
class QComboBox;
class QMouseEvent;

namespace qs::gui {

class SessionModel;

class KurtosisMapView : public QWidget, public FigureView {
    Q_OBJECT

public:
    enum class Source { Baseline, Experiment };

    explicit KurtosisMapView(SessionModel* model, QWidget* parent = nullptr);

    TensorKind tensorKind() const { return m_kind; }
    void setTensorKind(TensorKind kind);
    Source source() const { return m_source; }
    void setSource(Source source);
    // Stage of the selected experiment ("input", "smoothquant", "awq", "quantized"); the
    // baseline is always "original".
    QString stage() const
    {
        return m_source == Source::Baseline ? QStringLiteral("original") : m_stage;
    }
    void setStage(const QString& stage);
    // Stages the selected experiment holds for the current tensor kind.
    QStringList availableStages() const;

    // Rebuilds the map from the model now (the model's signals call it).
    void refresh();

    // Columns (full module names) and what a cell shows, for tests: NaN when no statistics.
    QStringList modules() const { return m_modules; }
    double cellValue(int layer, const QString& module) const;
    // Centre of a cell in the plot widget's pixels (after a layout/replot).
    QPointF cellPixel(int layer, const QString& module) const;
    bool cellTextVisible() const { return m_cellTextVisible; }

    // "self_attn.q_proj" -> "q", "mlp.gate_proj" -> "gate", "attn.c_attn" -> "c_attn".
    static QString shortModuleName(const QString& module);
    // The colour coordinate of an excess kurtosis: sign(k) * log10(1 + |k|).
    static double colourCoordinate(double kurtosisExcess);

    // FigureView
    QCustomPlot* figurePlot() const override { return m_plot; }
    QString figureName() const override;
    QString figureCsv() const override;
    void applyFigureStyle(const FigureStyle& style) override;
    bool hasFigure() const override { return m_hasValues; }

private:
    struct Cell {
        double kurtosis = 0;  // excess; NaN: no statistics
        int outlierChannels = 0;
        QCPItemText* text = nullptr;
    };

    void updateControls();
    void collectCells();
    void buildPlot();
    void restyle();
    void updateSelection();
    void placeCellText();
    void onMousePress(QMouseEvent* event);
    Cell* cell(int layer, int column);
    const Cell* cell(int layer, int column) const;
    QString sourceName() const;

    SessionModel* m_model;
    TensorKind m_kind = TensorKind::Weights;
    Source m_source = Source::Baseline;
    QString m_stage = QStringLiteral("input");
    FigureStyle m_style;

    QStringList m_modules;
    int m_layers = 0;
    std::vector<Cell> m_cells;  // layer-major
    bool m_hasValues = false;
    double m_colourLow = 0, m_colourHigh = 1;  // colour coordinates of the scale's ends
    bool m_cellTextVisible = false;

    QComboBox* m_kindCombo = nullptr;
    QComboBox* m_sourceCombo = nullptr;
    QComboBox* m_stageCombo = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_selection = nullptr;
};

}  // namespace qs::gui
