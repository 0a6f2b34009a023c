// Offscreen tests of the model-wide views (Pareto, error across depth, kurtosis map) on a
// synthetic session with known values: the frontier holds exactly the expected experiments, a
// click on a point or a cell selects it in the SessionModel, plotted values equal the records',
// every CSV has one row per plotted point, and print styles use readable fonts and export.
//
// QS_VIEW_SHOTS=SESSION.h5:DIR additionally saves each view at 1000x650 on that session (a
// developer aid for looking at the views; skipped otherwise).
#include <algorithm>
#include <cmath>

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include "core/session/session_file.h"
#include "core/util/error.h"
#include "widgets/depth_error_view.h"
#include "widgets/figure_export.h"
#include "widgets/figure_style.h"
#include "widgets/kurtosis_map_view.h"
#include "widgets/pareto_view.h"
#include "widgets/session_model.h"

using qs::gui::DepthErrorView;
using qs::gui::FigureStyle;
using qs::gui::KurtosisMapView;
using qs::gui::ParetoView;
using qs::gui::SessionModel;

namespace {

constexpr int k_layers = 3;
const QStringList k_modules = {QStringLiteral("self_attn.q_proj"), QStringLiteral("mlp.down_proj")};

qs::TensorStats stats(double kurtosisExcess, int outliers)
{
    qs::TensorStats s;
    s.rows = 8;
    s.cols = 8;
    s.kurtosis_pearson = kurtosisExcess + 3.0;
    for (int i = 0; i < outliers; ++i)
        s.outlier_channels.push_back(i);
    return s;
}

// Kurtosis values that identify their cell: layer * 10 + module, plus 0.5 for "quantized".
double kurtosisOf(int layer, int module, bool quantized)
{
    return layer * 10.0 + module + (quantized ? 0.5 : 0.0);
}

qs::ExperimentRecord experiment(const char* id, const char* name, double bitsPerWeight,
                                double wikitext, double ptb, bool quantized)
{
    qs::ExperimentRecord e;
    e.id = id;
    e.name = name;
    e.quantize_seconds = 1.5;
    e.size.parameters = 1000;
    e.size.total_bits = std::int64_t(bitsPerWeight * 1000);
    e.size.linear_parameters = 800;
    e.size.linear_bits = std::int64_t(bitsPerWeight * 800);
    e.perplexity.push_back({"wikitext2", "wiki.test.raw", 128, 4, wikitext, 1.0});
    e.perplexity.push_back({"ptb", "ptb.test.txt", 128, 4, ptb, 1.0});
    for (int layer = 0; layer < k_layers; ++layer) {
        e.depth.cosine.push_back(1.0 - 0.01 * (layer + 1) * (quantized ? 1 : 0));
        e.depth.mse.push_back(0.001 * layer);
        for (int m = 0; m < k_modules.size(); ++m) {
            qs::LinearRecord linear;
            linear.layer = layer;
            linear.module = k_modules[m].toStdString();
            linear.out_features = linear.in_features = 8;
            if (quantized) {
                linear.method = "rtn";
                linear.output_sqnr_db = 20.0 + layer + 2.0 * m;  // layer mean: 21 + layer
                linear.weight_stats["input"] = stats(kurtosisOf(layer, m, false), 0);
                linear.weight_stats["quantized"] = stats(kurtosisOf(layer, m, true), 1);
                linear.activation_stats["input"] = stats(kurtosisOf(layer, m, false) * 2, 2);
            }
            e.linears.push_back(linear);
        }
    }
    return e;
}

// Sizes (bits/weight) and wikitext2 perplexities chosen so that, without the fp16 reference,
// the frontier is exactly exp-0004 (3.5, 14), exp-0003 (4.5, 11), exp-0006 (8.5, 10.5).
qs::SessionData syntheticSession()
{
    qs::SessionData data;
    data.header.num_layers = k_layers;
    data.header.hidden_size = 8;
    data.header.architecture = "LlamaForCausalLM";
    for (int layer = 0; layer < k_layers; ++layer)
        for (int m = 0; m < k_modules.size(); ++m) {
            qs::LinearRecord linear;
            linear.layer = layer;
            linear.module = k_modules[m].toStdString();
            linear.weight_stats["original"] = stats(kurtosisOf(layer, m, false) + 100, 3);
            linear.activation_stats["original"] = stats(-1.0 + layer, 4);
            data.baseline.push_back(linear);
        }
    data.experiments.push_back(experiment("exp-0001", "fp16", 16, 10.0, 20.0, false));
    data.experiments.push_back(experiment("exp-0002", "rtn-int4-g128", 4.5, 12.0, 25.0, true));
    data.experiments.push_back(experiment("exp-0003", "gptq-int4-g128", 4.5, 11.0, 22.0, true));
    data.experiments.push_back(experiment("exp-0004", "gptq-int3-g128", 3.5, 14.0, 30.0, true));
    data.experiments.push_back(experiment("exp-0005", "rtn-int3-g128", 3.5, 16.0, 35.0, true));
    data.experiments.push_back(experiment("exp-0006", "gptq-int8", 8.5, 10.5, 21.0, true));
    return data;
}

void showAt(QWidget& view, QSize size = QSize(1000, 650))
{
    view.resize(size);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
}

int csvRows(const QString& csv)
{
    return int(csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size()) - 1;
}

void checkPrintFonts(QCustomPlot* plot)
{
    for (QCPAxisRect* rect : plot->axisRects())
        for (QCPAxis* axis : rect->axes()) {
            QVERIFY(axis->labelFont().pointSizeF() >= 7.0);
            QVERIFY(axis->tickLabelFont().pointSizeF() >= 7.0);
        }
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i)))
            QVERIFY2(text->font().pointSizeF() >= 7.0, qPrintable(text->text()));
}

// A crowded study (a real stories260K sweep: 22 recipes, five at each size, and the fp16
// reference): sizes in bits/weight, wikitext2 and ptb perplexities.
qs::SessionData crowdedSession()
{
    struct Row {
        const char* name;
        double bits, wikitext, ptb;
    };
    const Row rows[] = {{"fp16", 16.0, 131.01, 111.53},
                        {"rtn-int3-g32-asym", 5.2053, 209.81, 193.81},
                        {"rtn-int3-g128-asym", 4.9160, 241.74, 248.05},
                        {"rtn-int4-g32-asym", 6.1046, 147.51, 123.42},
                        {"rtn-int4-g128-asym", 5.8000, 138.37, 121.37},
                        {"rtn-mxfp4-32", 5.7686, 164.91, 143.91},
                        {"gptq-int3-g32-asym", 5.2053, 168.14, 160.24},
                        {"gptq-int3-g128-asym", 4.9160, 180.39, 163.92},
                        {"gptq-int4-g32-asym", 6.1046, 137.09, 112.39},
                        {"gptq-int4-g128-asym", 5.8000, 137.78, 118.92},
                        {"awq-int3-g32-asym", 5.2053, 158.66, 139.94},
                        {"awq-int3-g128-asym", 4.9160, 166.37, 153.35},
                        {"awq-int4-g32-asym", 6.1046, 128.81, 111.99},
                        {"awq-int4-g128-asym", 5.8000, 142.09, 123.69},
                        {"awq-mxfp4-32", 5.7686, 137.04, 126.77},
                        {"awq+gptq-int3-g32-asym", 5.2053, 170.71, 157.58},
                        {"awq+gptq-int3-g128-asym", 4.9160, 195.21, 168.04},
                        {"awq+gptq-int4-g32-asym", 6.1046, 131.17, 116.20},
                        {"awq+gptq-int4-g128-asym", 5.8000, 139.84, 116.96},
                        {"smoothquant+gptq-int3-g32-asym", 5.2053, 167.12, 153.20},
                        {"smoothquant+gptq-int3-g128-asym", 4.9160, 196.08, 168.91},
                        {"smoothquant+gptq-int4-g32-asym", 6.1046, 128.38, 113.66},
                        {"smoothquant+gptq-int4-g128-asym", 5.8000, 136.25, 118.90}};
    qs::SessionData data = syntheticSession();
    data.experiments.clear();
    for (const Row& row : rows) {
        const std::string id = "exp-" + std::to_string(1000 + data.experiments.size());
        data.experiments.push_back(experiment(id.c_str(), row.name, row.bits, row.wikitext, row.ptb,
                                              std::string(row.name) != "fp16"));
    }
    return data;
}

double distanceToRect(const QRectF& rect, const QPointF& p)
{
    const double dx = std::max({rect.left() - p.x(), 0.0, p.x() - rect.right()});
    const double dy = std::max({rect.top() - p.y(), 0.0, p.y() - rect.bottom()});
    return std::hypot(dx, dy);
}

// Every drawn label names its own point and no other: without a leader it lies next to its
// point and every other point is clearly farther; with a leader, the leader ends at its point
// and the label keeps clear of the other points. Labels never overlap nor leave the axes.
void checkLabelsNameTheirPoints(const ParetoView& view, int minimumDrawn)
{
    const double radius = ParetoView::markerRadiusPixels();
    const QRectF axes = QRectF(view.figurePlot()->axisRect()->rect()).adjusted(-1, -1, 1, 1);
    const std::vector<ParetoView::DrawnLabel> drawn = view.drawnLabels();
    QVERIFY2(int(drawn.size()) >= minimumDrawn, qPrintable(view.visibleLabels().join(", ")));
    for (std::size_t i = 0; i < drawn.size(); ++i) {
        const ParetoView::DrawnLabel& label = drawn[i];
        const QPointF own = view.pointPixel(label.id);
        const double ownDistance = distanceToRect(label.rect, own);
        const QString what = QStringLiteral("label of %1 at %2,%3 (leader %4)")
                                 .arg(label.id)
                                 .arg(label.rect.x())
                                 .arg(label.rect.y())
                                 .arg(label.leader);
        QVERIFY2(axes.contains(label.rect), qPrintable(what));
        if (label.leader)
            QVERIFY2(QLineF(label.leaderTo, own).length() <= radius + 0.5, qPrintable(what));
        else
            QVERIFY2(ownDistance <= 2 * radius, qPrintable(what));
        for (const QString& id : view.plottedIds()) {
            const QPointF other = view.pointPixel(id);
            if (id == label.id || QLineF(other, own).length() < radius) continue;
            const double otherDistance = distanceToRect(label.rect, other);
            QVERIFY2(otherDistance > (label.leader ? radius : ownDistance + radius),
                     qPrintable(what + QStringLiteral(" is as near %1").arg(id)));
        }
        for (std::size_t j = 0; j < i; ++j)
            QVERIFY2(!label.rect.intersects(drawn[j].rect), qPrintable(what));
    }
}

}  // namespace

class ModelViewsTest : public QObject {
    Q_OBJECT

private slots:
    void init();
    void paretoFrontier();
    void paretoReferenceAsPoint();
    void paretoDatasetsAndCsv();
    void paretoClickSelects();
    void paretoHighlightsAndTooltip();
    void paretoLabelsNameTheirPoints();
    void depthSeries();
    void kurtosisBaselineAndExperiment();
    void kurtosisClickSelectsLinear();
    void printStyleAndExport();
    void emptyModel();
    void screenshots();

private:
    SessionModel m_model;
};

void ModelViewsTest::init()
{
    m_model.setData(syntheticSession(), QStringLiteral("synthetic.h5"));
    m_model.selectExperiment({});
    m_model.selectComparedExperiment({});
    m_model.selectLinear(-1, {});
}

void ModelViewsTest::paretoFrontier()
{
    ParetoView view(&m_model);
    QCOMPARE(view.dataset(), QStringLiteral("wikitext2"));
    QCOMPARE(view.referenceId(), QStringLiteral("exp-0001"));
    QCOMPARE(view.plottedIds(),
             QStringList({"exp-0002", "exp-0003", "exp-0004", "exp-0005", "exp-0006"}));
    QCOMPARE(view.frontierIds(), QStringList({"exp-0004", "exp-0003", "exp-0006"}));
    showAt(view);
    view.figurePlot()->replot();
    // Frontier points are always labelled.
    const QStringList labels = view.visibleLabels();
    for (const QString name : {"gptq-int3-g128", "gptq-int4-g128", "gptq-int8"})
        QVERIFY2(labels.contains(name), qPrintable(labels.join(", ")));
}

void ModelViewsTest::paretoReferenceAsPoint()
{
    ParetoView view(&m_model);
    view.setReferenceAsLine(false);
    QVERIFY(view.referenceId().isEmpty());
    QCOMPARE(view.plottedIds().size(), 6);
    QCOMPARE(view.frontierIds(), QStringList({"exp-0004", "exp-0003", "exp-0006", "exp-0001"}));
    view.setSizeAxis(ParetoView::SizeAxis::BitsPerWeight);
    QCOMPARE(view.frontierIds(), QStringList({"exp-0004", "exp-0003", "exp-0006", "exp-0001"}));
}

void ModelViewsTest::paretoDatasetsAndCsv()
{
    ParetoView view(&m_model);
    QCOMPARE(view.datasets(), QStringList({"wikitext2", "ptb"}));
    QCOMPARE(view.figureName(), QStringLiteral("pareto-wikitext2"));
    const QString csv = view.figureCsv();
    QVERIFY(csv.startsWith(
        QStringLiteral("id,name,dataset,size_bytes,bits_per_weight,ppl,on_frontier\n")));
    // Every point plus the reference line.
    QCOMPARE(csvRows(csv), view.plottedIds().size() + 1);
    QVERIFY(csv.contains(QStringLiteral("exp-0003,gptq-int4-g128,wikitext2,563,4.5,11,1\n")));
    QVERIFY(csv.contains(QStringLiteral("exp-0005,rtn-int3-g128,wikitext2,438,3.5,16,0\n")));

    view.setDataset(QStringLiteral("ptb"));
    QCOMPARE(view.figureName(), QStringLiteral("pareto-ptb"));
    QCOMPARE(view.frontierIds(), QStringList({"exp-0004", "exp-0003", "exp-0006"}));
    view.setDataset(QStringLiteral("no-such-dataset"));
    QCOMPARE(view.dataset(), QStringLiteral("ptb"));
    view.setLogPerplexity(true);
    QCOMPARE(view.figurePlot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(csvRows(view.figureCsv()), 6);
}

void ModelViewsTest::paretoClickSelects()
{
    ParetoView view(&m_model);
    showAt(view);
    QCustomPlot* plot = view.figurePlot();
    plot->replot();
    for (const QString id : {"exp-0005", "exp-0002", "exp-0006"}) {
        const QPointF pixel = view.pointPixel(id);
        QVERIFY(plot->axisRect()->rect().contains(pixel.toPoint()));
        QTest::mousePress(plot, Qt::LeftButton, {}, pixel.toPoint());
        QTest::mouseRelease(plot, Qt::LeftButton, {}, pixel.toPoint());
        QCOMPARE(m_model.selectedExperiment(), id);
    }
    // Empty space selects nothing new.
    const QPoint corner = plot->axisRect()->rect().topLeft() + QPoint(3, 3);
    QTest::mousePress(plot, Qt::LeftButton, {}, corner);
    QCOMPARE(m_model.selectedExperiment(), QStringLiteral("exp-0006"));
}

void ModelViewsTest::paretoHighlightsAndTooltip()
{
    ParetoView view(&m_model);
    m_model.selectExperiment(QStringLiteral("exp-0003"));
    m_model.selectComparedExperiment(QStringLiteral("exp-0002"));
    QCustomPlot* plot = view.figurePlot();
    QCPGraph* selected = nullptr;
    QCPGraph* compared = nullptr;
    for (int i = 0; i < plot->graphCount(); ++i) {
        // The first of each name holds the point; the second is its legend entry.
        if (plot->graph(i)->name() == QStringLiteral("selected") && !selected)
            selected = plot->graph(i);
        if (plot->graph(i)->name() == QStringLiteral("compared") && !compared)
            compared = plot->graph(i);
    }
    QVERIFY(selected && compared);
    QCOMPARE(selected->dataCount(), 1);
    QCOMPARE(selected->data()->at(0)->value, 11.0);
    QCOMPARE(compared->data()->at(0)->value, 12.0);
    const QString tip = view.tooltipText(QStringLiteral("exp-0003"));
    for (const QString part :
         {"gptq-int4-g128", "exp-0003", "wikitext2 perplexity 11.000", "ptb perplexity 22.000",
          "4.500 bits/weight", "linears 4.500", "quantized in 1.5 s", "Pareto frontier"})
        QVERIFY2(tip.contains(part), qPrintable(tip));
}

void ModelViewsTest::paretoLabelsNameTheirPoints()
{
    m_model.setData(crowdedSession(), QStringLiteral("crowded.h5"));
    m_model.selectExperiment(QStringLiteral("exp-1021"));  // the best: smoothquant+gptq-int4-g32
    m_model.selectComparedExperiment(QStringLiteral("exp-1003"));
    ParetoView view(&m_model);
    showAt(view);
    QCustomPlot* plot = view.figurePlot();
    plot->replot();
    checkLabelsNameTheirPoints(view, 8);
    QVERIFY(view.visibleLabels().contains(QStringLiteral("smoothquant+gptq-int4-g32-asym")));

    // A one-column figure: 89 mm wide, the same points, far less room.
    view.applyFigureStyle(FigureStyle::fromPreset(QStringLiteral("one-column")));
    for (const QString dataset : {"wikitext2", "ptb"}) {
        view.setDataset(dataset);
        const QSize size = qs::gui::figurePixelSize(89, 60);
        plot->toPixmap(size.width(), size.height());  // lays out (and places labels) at that size
        checkLabelsNameTheirPoints(view, 3);
        // Each legend icon holds its marker, pen included (the legend clips icons to their box).
        const int iconHeight = plot->legend->iconSize().height();
        for (int i = 0; i < plot->graphCount(); ++i) {
            QCPGraph* graph = plot->graph(i);
            if (!plot->legend->hasItemWithPlottable(graph)) continue;
            QVERIFY2(
                graph->scatterStyle().size() + graph->scatterStyle().pen().widthF() <= iconHeight,
                qPrintable(graph->name()));
        }
    }
}

void ModelViewsTest::depthSeries()
{
    DepthErrorView view(&m_model);
    QVERIFY(view.hasFigure());  // the other quantized experiments, grey
    QCOMPARE(view.plottedExperiments().size(), 5);
    m_model.selectExperiment(QStringLiteral("exp-0003"));
    m_model.selectComparedExperiment(QStringLiteral("exp-0002"));
    QCOMPARE(view.plottedExperiments().mid(0, 2), QStringList({"exp-0003", "exp-0002"}));
    view.setShowAllExperiments(false);
    QCOMPARE(view.plottedExperiments(), QStringList({"exp-0003", "exp-0002"}));

    const std::vector<double> sqnr =
        DepthErrorView::meanLinearSqnrDb(*m_model.experiment(QStringLiteral("exp-0003")), k_layers);
    QCOMPARE(sqnr, std::vector<double>({21.0, 22.0, 23.0}));
    const std::vector<double> reference =
        DepthErrorView::meanLinearSqnrDb(*m_model.experiment(QStringLiteral("exp-0001")), k_layers);
    QVERIFY(std::isnan(reference[0]));  // nothing quantized: no SQNR

    const QString csv = view.figureCsv();
    QVERIFY(csv.startsWith(QStringLiteral("experiment,layer,cosine,mse,mean_linear_sqnr_db\n")));
    QCOMPARE(csvRows(csv), 2 * k_layers);
    QVERIFY(csv.contains(QStringLiteral("exp-0003,1,0.98,0.001,22\n")));
    QCOMPARE(view.cosineRect()->axis(QCPAxis::atLeft)->label(),
             QStringLiteral("Hidden-state cosine vs FP"));
    QVERIFY(view.sqnrRect()->axis(QCPAxis::atLeft)->label().contains(QStringLiteral("linears")));
    // Two graphs (cosine and SQNR) per series, values as recorded.
    QCustomPlot* plot = view.figurePlot();
    QCOMPARE(plot->graphCount(), 4);
    QCOMPARE(plot->graph(0)->data()->at(2)->value, 0.97);
    QCOMPARE(plot->graph(1)->data()->at(2)->value, 23.0);
}

void ModelViewsTest::kurtosisBaselineAndExperiment()
{
    KurtosisMapView view(&m_model);
    QCOMPARE(view.modules(), k_modules);
    QCOMPARE(KurtosisMapView::shortModuleName(k_modules[0]), QStringLiteral("q"));
    QCOMPARE(KurtosisMapView::shortModuleName(k_modules[1]), QStringLiteral("down"));
    QCOMPARE(KurtosisMapView::shortModuleName(QStringLiteral("attn.c_attn")),
             QStringLiteral("c_attn"));
    QCOMPARE(view.stage(), QStringLiteral("original"));
    QCOMPARE(view.cellValue(2, k_modules[1]), kurtosisOf(2, 1, false) + 100);
    QCOMPARE(view.figureName(), QStringLiteral("kurtosis-weights"));
    view.setTensorKind(qs::gui::TensorKind::Activations);
    QCOMPARE(view.cellValue(0, k_modules[0]), -1.0);
    QCOMPARE(view.figureName(), QStringLiteral("kurtosis-activations"));
    QString csv = view.figureCsv();
    QVERIFY(csv.startsWith(
        QStringLiteral("layer,module,source,stage,kurtosis_excess,outlier_channels\n")));
    QCOMPARE(csvRows(csv), k_layers * k_modules.size());
    QVERIFY(csv.contains(QStringLiteral("1,mlp.down_proj,baseline,original,0,4\n")));

    view.setTensorKind(qs::gui::TensorKind::Weights);
    view.setSource(KurtosisMapView::Source::Experiment);
    QVERIFY(!view.hasFigure());  // no experiment selected
    m_model.selectExperiment(QStringLiteral("exp-0003"));
    QVERIFY(view.hasFigure());
    QCOMPARE(view.availableStages(), QStringList({"input", "quantized"}));
    QCOMPARE(view.stage(), QStringLiteral("input"));
    QCOMPARE(view.cellValue(1, k_modules[1]), kurtosisOf(1, 1, false));
    view.setStage(QStringLiteral("quantized"));
    QCOMPARE(view.cellValue(1, k_modules[1]), kurtosisOf(1, 1, true));
    QCOMPARE(view.figureName(), QStringLiteral("kurtosis-weights-exp-0003-quantized"));
    csv = view.figureCsv();
    QVERIFY(csv.contains(QStringLiteral("2,self_attn.q_proj,exp-0003,quantized,20.5,1\n")));
    // Symmetric log colour coordinate.
    QCOMPARE(KurtosisMapView::colourCoordinate(99.0), 2.0);
    QCOMPARE(KurtosisMapView::colourCoordinate(-9.0), -1.0);
    QCOMPARE(KurtosisMapView::colourCoordinate(0.0), 0.0);
}

void ModelViewsTest::kurtosisClickSelectsLinear()
{
    KurtosisMapView view(&m_model);
    showAt(view);
    QCustomPlot* plot = view.figurePlot();
    plot->replot();
    QVERIFY(view.cellTextVisible());  // 6 large cells: the values fit
    const QPointF pixel = view.cellPixel(2, k_modules[1]);
    QTest::mousePress(plot, Qt::LeftButton, {}, pixel.toPoint());
    QCOMPARE(m_model.selectedLayer(), 2);
    QCOMPARE(m_model.selectedModule(), k_modules[1]);
    QTest::mousePress(plot, Qt::LeftButton, {}, view.cellPixel(0, k_modules[0]).toPoint());
    QCOMPARE(m_model.selectedLayer(), 0);
    QCOMPARE(m_model.selectedModule(), k_modules[0]);
}

void ModelViewsTest::printStyleAndExport()
{
    m_model.selectExperiment(QStringLiteral("exp-0003"));
    m_model.selectComparedExperiment(QStringLiteral("exp-0002"));
    ParetoView pareto(&m_model);
    DepthErrorView depth(&m_model);
    KurtosisMapView kurtosis(&m_model);
    QTemporaryDir dir;
    const std::vector<qs::gui::FigureView*> views = {&pareto, &depth, &kurtosis};
    for (qs::gui::FigureView* view : views) {
        view->applyFigureStyle(FigureStyle::fromPreset(QStringLiteral("one-column")));
        checkPrintFonts(view->figurePlot());
        view->applyFigureStyle(FigureStyle::fromPreset(QStringLiteral("screen")));
        qs::gui::FigureExportOptions options;
        options.style = FigureStyle::fromPreset(QStringLiteral("two-column"));
        options.style.dpi = 100;
        options.outDir = dir.path();
        try {
            const QStringList written = qs::gui::exportFigure(*view, options);
            QCOMPARE(written.size(), 4);
            for (const QString& path : written)
                QVERIFY2(QFileInfo(path).size() > 100, qPrintable(path));
        } catch (const qs::QsError& error) {
            QFAIL(error.what());
        }
    }
    QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("pareto-wikitext2.pdf"))));
    QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("depth-error.svg"))));
    QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("kurtosis-weights.png"))));
}

void ModelViewsTest::emptyModel()
{
    SessionModel empty;
    ParetoView pareto(&empty);
    DepthErrorView depth(&empty);
    KurtosisMapView kurtosis(&empty);
    QVERIFY(!pareto.hasFigure());
    QVERIFY(!depth.hasFigure());
    QVERIFY(!kurtosis.hasFigure());
    showAt(pareto, QSize(400, 300));
    pareto.figurePlot()->replot();  // no crash on an empty session
    QTemporaryDir dir;
    qs::gui::FigureExportOptions options;
    options.outDir = dir.path();
    QVERIFY_THROWS_EXCEPTION(qs::QsError, qs::gui::exportFigure(pareto, options));
}

void ModelViewsTest::screenshots()
{
    const QString spec = qEnvironmentVariable("QS_VIEW_SHOTS");
    if (spec.isEmpty()) QSKIP("set QS_VIEW_SHOTS=SESSION.h5:DIR to save the views");
    const QString session = spec.section(QLatin1Char(':'), 0, 0);
    const QString outDir = spec.section(QLatin1Char(':'), 1);
    SessionModel model;
    model.setData(qs::read_session(session.toStdString()), session);
    ParetoView pareto(&model);
    DepthErrorView depth(&model);
    KurtosisMapView kurtosis(&model);
    const QString best = QStringLiteral("exp-0021");
    model.selectExperiment(model.experiment(best) ? best : QString());
    model.selectComparedExperiment(QStringLiteral("exp-0004"));
    model.selectLinear(1, QStringLiteral("self_attn.q_proj"));
    QDir().mkpath(outDir);
    const std::vector<std::pair<QWidget*, QString>> views = {
        {&pareto, "pareto"}, {&depth, "depth_error"}, {&kurtosis, "kurtosis_map"}};
    for (const auto& [view, name] : views) {
        showAt(*view);
        dynamic_cast<qs::gui::FigureView*>(view)->figurePlot()->replot();
        QVERIFY(view->grab().save(QDir(outDir).filePath(name + QStringLiteral(".png"))));
    }
    kurtosis.setTensorKind(qs::gui::TensorKind::Activations);
    kurtosis.setSource(KurtosisMapView::Source::Experiment);
    kurtosis.figurePlot()->replot();
    QVERIFY(kurtosis.grab().save(QDir(outDir).filePath(QStringLiteral("kurtosis_map_sq.png"))));
}

QTEST_MAIN(ModelViewsTest)
#include "test_model_views.moc"
