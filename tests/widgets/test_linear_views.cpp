// Offscreen tests of the linear views (histogram, channel absmax, GPTQ column error, layer
// inspector) and the model tree's badges, on a SessionData built here with known numbers so
// every assertion is exact. With QS_SHOT_SESSION (a session file) and QS_SHOT_DIR set, the
// `screenshots` case also renders the inspector and the badge tree of that session to PNGs.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QSignalSpy>
#include <QtTest>
#include <qcustomplot.h>

#include "core/model/model_info.h"
#include "core/session/session_file.h"
#include "widgets/channel_absmax_view.h"
#include "widgets/figure_export.h"
#include "widgets/gptq_error_view.h"
#include "widgets/histogram_view.h"
#include "widgets/layer_inspector.h"
#include "widgets/linear_badges.h"
#include "widgets/model_tree.h"
#include "widgets/session_model.h"

using namespace qs::gui;

namespace {

const QString k_down = QStringLiteral("mlp.down_proj");
const QString k_q = QStringLiteral("self_attn.q_proj");
constexpr int k_layers = 3;
constexpr int k_in = 12;  // input features of every test linear
constexpr int k_out = 8;
constexpr int k_group = 4;

// Histogram with edges 0..n (step `scale`) and the given counts.
qs::BinnedCounts bins(const std::vector<double>& counts, double scale = 1.0)
{
    qs::BinnedCounts b;
    b.counts = counts;
    for (std::size_t i = 0; i <= counts.size(); ++i)
        b.edges.push_back(scale * static_cast<double>(i) - 1.0);
    return b;
}

// Stats whose histogram counts start at `base` (bin 2 is always empty) and whose channel
// absmax is 1 except for the given outlier channels (10).
qs::TensorStats stats(double base, double pearson, const std::vector<std::int32_t>& outliers)
{
    qs::TensorStats s;
    s.rows = k_out;
    s.cols = k_in;
    s.absmax = outliers.empty() ? 1.0 : 10.0;
    s.kurtosis_pearson = pearson;
    s.histogram = bins({base, base + 1, 0, base + 3, base + 4});
    s.log_histogram = bins({base + 10, base + 20, base + 30}, 0.5);
    s.in_absmax.assign(k_in, 1.0F);
    for (const auto c : outliers)
        s.in_absmax[static_cast<std::size_t>(c)] = 10.0F;
    s.outlier_channels = outliers;
    std::vector<std::int32_t> top(k_in);
    std::iota(top.begin(), top.end(), 0);
    std::stable_sort(top.begin(), top.end(), [&](std::int32_t a, std::int32_t b) {
        return s.in_absmax[static_cast<std::size_t>(a)] > s.in_absmax[static_cast<std::size_t>(b)];
    });
    s.top_channels = top;
    return s;
}

qs::LinearRecord linear(int layer, const QString& module)
{
    qs::LinearRecord r;
    r.layer = layer;
    r.module = module.toStdString();
    r.out_features = k_out;
    r.in_features = k_in;
    return r;
}

// GPTQ fields: errors 1..12 by column (col + 1), act-order permutation when `actOrder`.
void addGptq(qs::LinearRecord& r, bool actOrder)
{
    r.method = "gptq";
    r.group_size = k_group;
    for (int c = 0; c < k_in; ++c) {
        r.gptq_column_error.push_back(static_cast<float>(c + 1));
        r.hessian_diag.push_back(static_cast<float>(100 - c));
    }
    r.gptq_g_idx.resize(k_in);
    if (actOrder) {
        r.gptq_perm = {5, 2, 11, 7, 0, 9, 1, 6, 3, 10, 4, 8};
        for (int p = 0; p < k_in; ++p)
            r.gptq_g_idx[static_cast<std::size_t>(r.gptq_perm[static_cast<std::size_t>(p)])] =
                p / k_group;
    } else {
        for (int c = 0; c < k_in; ++c)
            r.gptq_g_idx[static_cast<std::size_t>(c)] = c / k_group;
    }
}

// Baseline: 3 layers x (q_proj, down_proj). Layer 1 down_proj has the planted heavy tail
// (Pearson 60) and channels 2 and 5 as activation outliers; everything else is near-normal.
// exp-0001: AWQ + GPTQ with act-order; exp-0002: RTN; exp-0003: GPTQ in natural order.
qs::SessionData makeSession()
{
    qs::SessionData data;
    data.header.num_layers = k_layers;
    data.header.architecture = "LlamaForCausalLM";
    for (int layer = 0; layer < k_layers; ++layer) {
        for (const QString& module : {k_q, k_down}) {
            const bool planted = layer == 1 && module == k_down;
            auto r = linear(layer, module);
            r.weight_stats["original"] = stats(100, 3.0 + 0.1 * layer, {});
            r.activation_stats["original"] =
                stats(200, planted ? 60.0 : 3.2 + 0.1 * layer,
                      planted ? std::vector<std::int32_t>{2, 5} : std::vector<std::int32_t>{});
            data.baseline.push_back(r);
        }
    }
    auto experiment = [&](const char* id, const char* name, const char* method, bool awq,
                          bool actOrder) {
        qs::ExperimentRecord e;
        e.id = id;
        e.name = name;
        for (int layer = 0; layer < k_layers; ++layer) {
            for (const QString& module : {k_q, k_down}) {
                auto r = linear(layer, module);
                r.weight_stats["input"] = stats(110, 3.0, {});
                r.weight_stats["quantized"] = stats(130, 2.5, {});
                r.activation_stats["input"] = stats(210, 3.3, {2, 5});
                if (awq) {
                    r.weight_stats["awq"] = stats(120, 3.1, {});
                    r.activation_stats["awq"] = stats(220, 3.0, {});
                }
                r.method = method;
                r.output_sqnr_db = 30.0 - layer - (module == k_down ? 5.0 : 0.0);
                r.output_cosine = 0.99;
                r.weight_relative_mse = 0.001;
                r.storage_bits = k_out * k_in * 4 + 64;
                if (r.method == "gptq") addGptq(r, actOrder);
                e.linears.push_back(r);
            }
        }
        data.experiments.push_back(e);
    };
    experiment("exp-0001", "awq+gptq-int4-g4", "gptq", true, true);
    experiment("exp-0002", "rtn-int4-g4", "rtn", false, false);
    experiment("exp-0003", "gptq-int4-g4", "gptq", false, false);
    return data;
}

QStringList csvRows(const QString& csv)
{
    return csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

// Waits for LayerInspector::shown(layer, module); earlier announcements do not count.
bool waitShown(QSignalSpy& spy, int layer, const QString& module)
{
    for (int waited = 0; waited < 5000; waited += 10) {
        for (const auto& args : spy)
            if (args.at(0).toInt() == layer && args.at(1).toString() == module) return true;
        spy.wait(10);
    }
    return false;
}

QVector<double> barKeys(QCPBars* bars)
{
    QVector<double> keys;
    for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        keys << it->key;
    return keys;
}

}  // namespace

class TestLinearViews : public QObject {
    Q_OBJECT

private:
    SessionModel m_model;

private slots:
    void init()
    {
        m_model.setData(makeSession());
        m_model.selectExperiment(QStringLiteral("exp-0001"));
        m_model.selectLinear(1, k_down);
    }

    void histogramPlotsOneSeriesPerStage()
    {
        HistogramView view(&m_model);
        view.refresh();
        QCOMPARE(view.plottedStages(), QStringList({"original", "input", "awq", "quantized"}));
        QCOMPARE(view.figurePlot()->graphCount(), 4);
        const std::vector<double> bases = {100, 110, 120, 130};
        const double floor = HistogramView::floorCount();
        for (int g = 0; g < 4; ++g) {
            QCPGraph* graph = view.figurePlot()->graph(g);
            QCOMPARE(graph->name(), view.plottedStages()[g]);
            // Bins [-1,0) b, [0,1) b+1, [1,2) empty, [2,3) b+3, [3,4] b+4: two runs.
            const double b = bases[static_cast<std::size_t>(g)];
            const std::vector<std::pair<double, double>> expected = {
                {-1, floor}, {-1, b},    {0, b},     {0, b + 1}, {1, b + 1}, {1, floor}, {1.5, NAN},
                {2, floor},  {2, b + 3}, {3, b + 3}, {3, b + 4}, {4, b + 4}, {4, floor}};
            QCOMPARE(graph->dataCount(), static_cast<int>(expected.size()));
            for (int i = 0; i < graph->dataCount(); ++i) {
                const auto point = graph->data()->at(i);
                const auto [key, value] = expected[static_cast<std::size_t>(i)];
                QCOMPARE(point->key, key);
                if (std::isnan(value))
                    QVERIFY2(std::isnan(point->value), "empty bins must be a gap, not zero");
                else
                    QCOMPARE(point->value, value);
                QVERIFY(std::isnan(point->value) || point->value > 0);
            }
        }
        QCOMPARE(view.figurePlot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(view.figurePlot()->yAxis->range().lower > 0);
        QVERIFY(view.headerText().contains("excess kurtosis"));
        QCOMPARE(csvRows(view.figureCsv()).size(), 1 + 4 * 5);
        QCOMPARE(csvRows(view.figureCsv())[0], QStringLiteral("stage,bin_left,bin_right,count"));

        view.setTensorKind(TensorKind::Activations);
        QCOMPARE(view.plottedStages(), QStringList({"original", "input", "awq"}));
        // Excess kurtosis of the planted baseline: 60 - 3.
        QVERIFY2(view.headerText().contains("57"), qPrintable(view.headerText()));
        view.setBinning(HistogramView::Binning::Log10Abs);
        QCOMPARE(view.figurePlot()->graph(0)->dataCount(), 2 + 2 * 3);  // one run of 3 bins
        QCOMPARE(view.figurePlot()->graph(0)->data()->at(1)->value, 210.0);
        QCOMPARE(csvRows(view.figureCsv()).size(), 1 + 3 * 3);

        // Without an experiment only the baseline remains.
        m_model.selectExperiment({});
        view.refresh();
        QCOMPARE(view.plottedStages(), QStringList({"original"}));
    }

    void histogramFollowsModelSignals()
    {
        HistogramView view(&m_model);
        m_model.selectLinear(0, k_q);
        QTRY_VERIFY(view.figureName().endsWith("L0-self_attn.q_proj"));
        QVERIFY(view.hasFigure());
    }

    void absmaxColoursExactlyTheOutlierChannels()
    {
        ChannelAbsmaxView view(&m_model);
        view.refresh();
        QCOMPARE(view.tensorKind(), TensorKind::Activations);
        QCOMPARE(view.availableStages(), QStringList({"original", "input", "awq"}));
        QCOMPARE(view.stage(), QStringLiteral("original"));
        QCOMPARE(barKeys(view.outlierBars()), QVector<double>({2, 5}));
        QCOMPARE(view.channelBars()->dataCount(), k_in - 2);
        QVERIFY(!barKeys(view.channelBars()).contains(2));
        QVERIFY(!barKeys(view.channelBars()).contains(5));
        QCOMPARE(view.outlierBars()->brush().color(), QColor(0xD5, 0x5E, 0x00));
        QCOMPARE(view.thresholdValue(), 6.0);  // 6 x median(1, ..., 10, 10) = 6 x 1

        // AWQ flattened the outliers.
        QVERIFY(view.setStage(QStringLiteral("awq")));
        QCOMPARE(view.outlierBars()->dataCount(), 0);
        QCOMPARE(view.channelBars()->dataCount(), k_in);
        QVERIFY(!view.setStage(QStringLiteral("smoothquant")));  // not in this experiment
        QCOMPARE(view.stageCombo()->count(), 3);

        const QStringList rows = csvRows(view.figureCsv());
        QCOMPARE(rows.size(), 1 + k_in);
        QCOMPARE(rows[0], QStringLiteral("stage,channel,absmax,is_outlier"));
        view.setStage(QStringLiteral("original"));
        QCOMPARE(csvRows(view.figureCsv())[3], QStringLiteral("original,2,10,1"));

        // The stage stays when another linear is selected and still has it.
        view.setStage(QStringLiteral("input"));
        m_model.selectLinear(0, k_q);
        view.refresh();
        QCOMPARE(view.stage(), QStringLiteral("input"));
        QCOMPARE(barKeys(view.outlierBars()), QVector<double>({2, 5}));
    }

    void gptqGroupsInNaturalOrder()
    {
        m_model.selectExperiment(QStringLiteral("exp-0003"));
        GptqColumnErrorView view(&m_model);
        view.refresh();
        QVERIFY(!view.showsPlaceholder());
        QCOMPARE(view.groupBoundaries(), QVector<int>({4, 8}));
        QVERIFY(!view.processingOrderBox()->isEnabled());  // no act-order permutation
        QCOMPARE(view.errorBars()->dataCount(), k_in);
        QCOMPARE(view.errorBars()->data()->at(3)->value, 4.0);
        QCOMPARE(csvRows(view.figureCsv()).size(), 1 + k_in);
        QCOMPARE(csvRows(view.figureCsv())[0],
                 QStringLiteral("column,processing_position,group,error,hessian_diag"));
    }

    void gptqActOrderTogglePermutesColumns()
    {
        GptqColumnErrorView view(&m_model);
        view.refresh();
        const auto* record = m_model.experimentLinear("exp-0001", 1, k_down);
        QVERIFY(view.processingOrderBox()->isEnabled());
        // Original order: the act-order groups interleave.
        for (int p = 0; p < k_in; ++p)
            QCOMPARE(view.errorBars()->data()->at(p)->value, p + 1.0);

        view.processingOrderBox()->setChecked(true);
        QVERIFY(view.processingOrder());
        for (int p = 0; p < k_in; ++p) {
            const auto column = record->gptq_perm[static_cast<std::size_t>(p)];
            QCOMPARE(view.errorBars()->data()->at(p)->key, double(p));
            QCOMPARE(view.errorBars()->data()->at(p)->value, column + 1.0);
        }
        QCOMPARE(view.groupBoundaries(), QVector<int>({4, 8}));
        const QStringList rows = csvRows(view.figureCsv());
        QCOMPARE(rows[1], QStringLiteral("5,0,0,6,95"));  // first processed column: 5

        view.setHessianVisible(true);
        QVERIFY(view.hessianGraph()->visible());
        QCOMPARE(view.hessianGraph()->data()->at(0)->value, 95.0);
    }

    void gptqPlaceholderForOtherMethods()
    {
        m_model.selectExperiment(QStringLiteral("exp-0002"));
        GptqColumnErrorView view(&m_model);
        view.refresh();
        QVERIFY(view.showsPlaceholder());
        QVERIFY(!view.hasFigure());
        QVERIFY2(view.placeholderText().contains("rtn"), qPrintable(view.placeholderText()));
        QCOMPARE(csvRows(view.figureCsv()).size(), 1);
        m_model.selectExperiment({});
        view.refresh();
        QVERIFY(view.showsPlaceholder());
    }

    void badgesRankThePlantedLayerWorst()
    {
        const LinearBadges badges = LinearBadges::compute(m_model.data(), "exp-0001");
        const LinearBadge* planted = badges.linear(1, k_down);
        QVERIFY(planted);
        QCOMPARE(planted->kurtosis.value, 57.0);
        QCOMPARE(planted->kurtosis.level, BadgeLevel::Worst);
        QCOMPARE(planted->outliers.value, 2.0);
        QCOMPARE(planted->outliers.level, BadgeLevel::Worst);
        int worst = 0;
        for (const auto& b : badges.linears())
            worst += b.kurtosis.level == BadgeLevel::Worst;
        QCOMPARE(worst, 1);  // ceil(10 % of 6)
        // Zero outlier channels are never flagged, whatever their rank.
        QCOMPARE(badges.linear(0, k_q)->outliers.level, BadgeLevel::Neutral);
        // Lowest SQNR: layer 2 down_proj (30 - 2 - 5).
        QCOMPARE(badges.linear(2, k_down)->sqnr.value, 23.0);
        QCOMPARE(badges.linear(2, k_down)->sqnr.level, BadgeLevel::Worst);
        QCOMPARE(badges.layerSummary(1).kurtosisModule, k_down);
        QVERIFY(badges.tooltip(BadgeMetric::ActivationKurtosis, planted->kurtosis)
                    .contains("worst 10 %"));
    }

    void treeShowsBadgesAndFollowsSelection()
    {
        ModelTree tree;
        tree.setSessionModel(&m_model);
        QVERIFY(tree.setModelFromSession(QStringLiteral("test")));
        QCOMPARE(tree.columnCount(), 6);
        QCOMPARE(tree.layerCount(), k_layers);
        // Layer rows: the worst of their linears; the planted layer is the only Worst.
        for (int layer = 0; layer < k_layers; ++layer) {
            const auto level = tree.layerItem(layer)
                                   ->data(ModelTree::KurtosisColumn, ModelTree::BadgeLevelRole)
                                   .toInt();
            QCOMPARE(level == int(BadgeLevel::Worst), layer == 1);
        }
        QCOMPARE(tree.layerItem(1)->text(ModelTree::KurtosisColumn), QStringLiteral("57.0"));
        QCOMPARE(tree.layerItem(1)->background(ModelTree::KurtosisColumn).color(),
                 QColor(0xD5, 0x5E, 0x00));
        QVERIFY(!tree.layerItem(1)->toolTip(ModelTree::KurtosisColumn).isEmpty());

        // Tree -> model (and the weight-name signal as before).
        QSignalSpy treeSignal(&tree, &ModelTree::linearSelected);
        QVERIFY(tree.selectLinear("model.layers.2.self_attn.q_proj.weight"));
        QCOMPARE(m_model.selectedLayer(), 2);
        QCOMPARE(m_model.selectedModule(), k_q);
        QCOMPARE(treeSignal.size(), 1);
        QCOMPARE(treeSignal[0][0].toString(),
                 QStringLiteral("model.layers.2.self_attn.q_proj.weight"));

        // Model -> tree.
        m_model.selectLinear(0, k_down);
        QCOMPARE(tree.currentItem()->data(0, ModelTree::WeightNameRole).toString(),
                 QStringLiteral("model.layers.0.mlp.down_proj.weight"));

        // SQNR follows the selected experiment.
        m_model.selectExperiment({});
        QVERIFY(tree.findLinear(0, k_down)->text(ModelTree::SqnrColumn).isEmpty());
        m_model.selectExperiment(QStringLiteral("exp-0002"));
        QCOMPARE(tree.findLinear(0, k_down)->text(ModelTree::SqnrColumn), QStringLiteral("25.0"));
    }

    void treeFromModelInfoKeepsItsApi()
    {
        qs::ModelInfo info;
        info.config.model_type = "llama";
        for (int layer = 0; layer < k_layers; ++layer) {
            qs::LayerInfo l;
            l.index = layer;
            for (const QString& module : {k_q, k_down}) {
                qs::LinearInfo li;
                li.name = module.toStdString();
                li.weight_name = QStringLiteral("model.layers.%1.%2.weight")
                                     .arg(layer)
                                     .arg(module)
                                     .toStdString();
                li.out_features = k_out;
                li.in_features = k_in;
                l.linears.push_back(li);
            }
            info.layers.push_back(l);
        }
        ModelTree tree;
        tree.setModel(info, QStringLiteral("tiny"));
        QCOMPARE(tree.columnCount(), 3);  // no session: no badge columns
        tree.setSessionModel(&m_model);
        QCOMPARE(tree.columnCount(), 6);
        // The selection made before attaching (init: layer 1 down_proj) is shown.
        QCOMPARE(tree.currentItem(), tree.findLinear("model.layers.1.mlp.down_proj.weight"));
        QVERIFY(tree.selectFirstLinear());
        QCOMPARE(m_model.selectedLayer(), 0);
        QCOMPARE(m_model.selectedModule(), k_q);

        int layer = -1;
        QString module;
        QVERIFY(ModelTree::parseWeightName("model.decoder.layers.11.fc1.weight", &layer, &module));
        QCOMPARE(layer, 11);
        QCOMPARE(module, QStringLiteral("fc1"));
        QVERIFY(!ModelTree::parseWeightName("lm_head.weight", &layer, &module));
    }

    void inspectorRefillsAndAnnounces()
    {
        LayerInspector inspector(&m_model);
        QSignalSpy shown(&inspector, &LayerInspector::shown);
        m_model.selectLinear(2, k_q);
        QVERIFY(waitShown(shown, 2, k_q));
        QTest::qWait(50);
        const auto forThisLinear = std::count_if(
            shown.begin(), shown.end(), [](const auto& a) { return a.at(0).toInt() == 2; });
        QCOMPARE(forThisLinear, 1);  // one refill per selection
        QCOMPARE(inspector.titleText(), QStringLiteral("Layer 2 · self_attn.q_proj · [8 x 12]"));
        QVERIFY2(inspector.numbersText().contains("28.00 dB"), qPrintable(inspector.numbersText()));
        QVERIFY(inspector.numbersText().contains("4.667 bits/weight"));
        QCOMPARE(inspector.figureViews().size(), 4);
        QCOMPARE(inspector.weightHistogram()->tensorKind(), TensorKind::Weights);
        QCOMPARE(inspector.activationHistogram()->tensorKind(), TensorKind::Activations);
        QVERIFY(inspector.gptqError()->hasFigure());
        inspector.binningCombo()->setCurrentIndex(1);
        QCOMPARE(inspector.weightHistogram()->binning(), HistogramView::Binning::Log10Abs);
    }

    void screenshots()
    {
        const QString session = qEnvironmentVariable("QS_SHOT_SESSION");
        const QString dir = qEnvironmentVariable("QS_SHOT_DIR");
        if (session.isEmpty() || dir.isEmpty()) QSKIP("QS_SHOT_SESSION / QS_SHOT_DIR not set");
        SessionModel model;
        model.setData(qs::read_session(session.toStdString()), session);
        QString experiment = qEnvironmentVariable("QS_SHOT_EXPERIMENT");
        for (const auto& e : model.data().experiments)
            if (experiment.isEmpty() && QString::fromStdString(e.name).startsWith("awq+gptq"))
                experiment = QString::fromStdString(e.id);
        model.selectExperiment(experiment);

        LayerInspector inspector(&model);
        inspector.resize(1100, 800);
        inspector.show();
        ModelTree tree;
        tree.setSessionModel(&model);
        const QString modelDir = qEnvironmentVariable("QS_SHARED") + "/models/stories260K/hf";
        if (QFileInfo::exists(modelDir + "/config.json"))
            tree.setModel(qs::ModelInfo::load(modelDir.toStdString()), "stories260K");
        else
            tree.setModelFromSession("session");
        tree.resize(450, 700);
        tree.show();
        QSignalSpy shown(&inspector, &LayerInspector::shown);
        // QS_SHOT_LINEAR="<layer>:<module>" picks another linear than L4 mlp.down_proj.
        const QStringList linear =
            qEnvironmentVariable("QS_SHOT_LINEAR", "4:mlp.down_proj").split(QLatin1Char(':'));
        QCOMPARE(linear.size(), 2);
        model.selectLinear(linear[0].toInt(), linear[1]);
        QVERIFY(waitShown(shown, linear[0].toInt(), linear[1]));
        QDir().mkpath(dir);
        QVERIFY(inspector.grab().save(dir + "/layer_inspector.png"));
        QVERIFY(tree.grab().save(dir + "/model_tree_badges.png"));
        inspector.gptqError()->setProcessingOrder(true);
        inspector.gptqError()->setHessianVisible(true);
        inspector.channelAbsmax()->setStage("awq");
        inspector.binningCombo()->setCurrentIndex(1);
        QTest::qWait(50);  // the header tables changed: let the layout follow
        QVERIFY(inspector.grab().save(dir + "/layer_inspector_actorder.png"));
        // Print versions of the four plots, as `quantscope --export-figures` writes them.
        FigureExportOptions options;
        options.formats = {QStringLiteral("png"), QStringLiteral("csv")};
        options.style.dpi = 150;
        options.outDir = dir + "/export";
        for (FigureView* view : inspector.figureViews())
            if (view->hasFigure()) QVERIFY(!exportFigure(*view, options).isEmpty());
    }
};

QTEST_MAIN(TestLinearViews)
#include "test_linear_views.moc"
