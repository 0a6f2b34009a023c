// Offscreen tests of the main window on the real stories260K checkpoint: tree contents, stats
// arriving in the inspector plots, event-loop latency while jobs run, and error reporting.
#include <algorithm>
#include <cstdlib>
#include <random>
#include <vector>

#include <QActionGroup>
#include <QDir>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QPushButton>
#include <QTimer>
#include <QUrl>
#include <QtTest>

#include "core/analysis/experiment_record.h"
#include "core/session/session_file.h"
#include "core/util/device_list.h"
#include "widgets/session_controller.h"
#include "core/io/safetensors_writer.h"
#include "core/util/threading.h"
#include "widgets/inspector_plots.h"
#include "widgets/main_window.h"
#include "widgets/model_tree.h"
#include "widgets/recipe_builder.h"
#include "widgets/start_page.h"
#include "widgets/stats_job.h"
#include "widgets/tensor_inspector.h"

using qs::gui::MainWindow;
using qs::gui::ModelTree;

namespace {

QString sharedDir()
{
    const QByteArray env = qgetenv("QS_SHARED");
    return env.isEmpty() ? QStringLiteral(QS_SHARED_DEFAULT) : QString::fromLocal8Bit(env);
}

const QString k_qProj = QStringLiteral("model.layers.0.self_attn.q_proj.weight");
const QString k_kProj = QStringLiteral("model.layers.0.self_attn.k_proj.weight");
const QString k_downProj = QStringLiteral("model.layers.4.mlp.down_proj.weight");
constexpr int k_statsTimeoutMs = 30000;

QStringList allLinears(const ModelTree* tree)
{
    QStringList names;
    for (QTreeWidgetItemIterator it(const_cast<ModelTree*>(tree)); *it; ++it) {
        const QString weight = (*it)->data(0, ModelTree::WeightNameRole).toString();
        if (!weight.isEmpty()) names << weight;
    }
    return names;
}

}  // namespace

// A macro, not a helper: QSKIP must return from the test function itself.
#define QS_REQUIRE_MODEL()                                               \
    do {                                                                 \
        if (!QFileInfo::exists(m_modelDir + "/config.json"))             \
            QSKIP(qPrintable("stories260K not found at " + m_modelDir)); \
    } while (0)

class TestMainWindow : public QObject {
    Q_OBJECT

private:
    QString m_modelDir;

    // Selects weightName and waits for its plots; returns false on timeout.
    static bool selectAndWait(MainWindow& window, const QString& weightName)
    {
        QSignalSpy shown(window.inspector(), &qs::gui::TensorInspector::statsShown);
        if (!window.modelTree()->selectLinear(weightName)) return false;
        for (int waited = 0; waited < k_statsTimeoutMs; waited += 20) {
            for (const auto& args : shown)
                if (args.at(0).toString() == weightName) return true;
            shown.wait(20);
        }
        return false;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);  // autosaved sessions stay out of $HOME
        qs::configure_threads();
        m_modelDir = sharedDir() + "/models/stories260K/hf";
    }

    void computeDeviceMenuListsWhatExists()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.deviceActions());
        const auto actions = window.deviceActions()->actions();
        QCOMPARE(actions.size(), int(qs::available_devices().size()));
        QCOMPARE(actions.front()->text(), QStringLiteral("cpu"));
        QVERIFY(window.selectDevice(QStringLiteral("cpu")));
        QVERIFY(actions.front()->isChecked());
        QCOMPARE(window.controller()->device(), QStringLiteral("cpu"));
        // A device the build or machine lacks is refused, with the reason, and nothing changes.
        QString error;
        QVERIFY(!window.controller()->setDevice(QStringLiteral("cuda:99"), &error));
        QVERIFY2(error.contains(QStringLiteral("cuda:99")), qPrintable(error));
        QVERIFY(!window.selectDevice(QStringLiteral("cuda:99")));
        QVERIFY(!window.controller()->setDevice(QStringLiteral("tpu"), &error));
        QCOMPARE(window.controller()->device(), QStringLiteral("cpu"));
        QVERIFY(actions.front()->isChecked());
    }

    void computePrecisionMenuSetsNewSessionsDtype()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.precisionActions());
        const auto actions = window.precisionActions()->actions();
        QCOMPARE(actions.size(), 3);
        QCOMPARE(actions.front()->data().toString(), QStringLiteral("fp32"));
        QVERIFY(window.selectComputeDtype(QStringLiteral("bf16")));
        QCOMPARE(window.controller()->computeDtype(), QStringLiteral("bf16"));
        QVERIFY(actions.at(1)->isChecked());
        QVERIFY(!actions.front()->isChecked());
        // Remembered for the next start, and an unknown name changes nothing.
        QCOMPARE(QSettings().value(QStringLiteral("compute/dtype")).toString(),
                 QStringLiteral("bf16"));
        QString error;
        QVERIFY(!window.controller()->setComputeDtype(QStringLiteral("fp64"), &error));
        QVERIFY2(error.contains(QStringLiteral("fp64")), qPrintable(error));
        QVERIFY(!window.selectComputeDtype(QStringLiteral("int8")));
        QCOMPARE(window.controller()->computeDtype(), QStringLiteral("bf16"));
        QVERIFY(window.selectComputeDtype(QStringLiteral("fp32")));
        QVERIFY(actions.front()->isChecked());
        QVERIFY(!window.windowTitle().contains(QStringLiteral("bf16")));  // no session yet
    }

    void sessionInHalfPrecisionSaysSoInTheTitle()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("half.quantscope.h5"));
        qs::SessionHeader header;
        header.model_path = "/nonexistent/model";
        header.model_config_sha256 = std::string(64, '0');
        header.architecture = "llama";
        header.compute_dtype = "bf16";
        qs::create_session(path.toStdString(), header);
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QSignalSpy opened(&window, &MainWindow::sessionOpened);
        window.controller()->openSession(path);
        QTRY_VERIFY(window.controller()->sessionComputeDtype() == QStringLiteral("bf16"));
        QTRY_VERIFY2(window.windowTitle().startsWith(QStringLiteral("bf16 \u00b7 ")),
                     qPrintable(window.windowTitle()));
    }

    void startPageWithoutModel()
    {
        MainWindow window;
        window.show();
        QVERIFY(!window.isModelOpen());
        auto* pages = qobject_cast<QStackedWidget*>(window.centralWidget());
        QVERIFY(pages);
        QVERIFY(qobject_cast<qs::gui::StartPage*>(pages->currentWidget()));
        auto* hint = window.findChild<QLabel*>(QStringLiteral("startHint"));
        QVERIFY(hint);
        QVERIFY(hint->text().contains("drag", Qt::CaseInsensitive));
    }

    void defaultSelectionIsTheBestExperimentsWorstLinear()
    {
        qs::SessionData data;
        // Two quantized linears each: layer 0 at 20 dB output SQNR, layer 1 at `layer1Sqnr`.
        const auto experiment = [&](const char* id, double wikitext, double ptb, bool quantized,
                                    double layer1Sqnr) {
            qs::ExperimentRecord e;
            e.id = id;
            e.name = id;
            e.perplexity.push_back({"wikitext2", "", 512, 4, wikitext, 1});
            e.perplexity.push_back({"ptb", "", 512, 4, ptb, 1});
            for (int layer = 0; layer < 2; ++layer) {
                qs::LinearRecord linear;
                linear.layer = layer;
                linear.module = "mlp.down_proj";
                linear.method = quantized ? "gptq" : "";
                linear.output_sqnr_db = layer == 0 ? 20.0 : layer1Sqnr;
                e.linears.push_back(linear);
            }
            data.experiments.push_back(e);
        };
        experiment("exp-a", 12.0, 20.0, true, 25.0);
        experiment("fp16", 9.0, 15.0, false, 0.0);    // better, but explains no quantization
        experiment("exp-b", 11.0, 25.0, true, 12.0);  // best on wikitext2, the first dataset
        experiment("exp-c", 13.0, 18.0, true, 25.0);  // best on ptb only
        QCOMPARE(qs::gui::bestExperimentId(data), QStringLiteral("exp-b"));
        const qs::LinearRecord* worst = qs::gui::largestErrorLinear(data.experiments[2]);
        QVERIFY(worst);
        QCOMPARE(worst->layer, 1);
        QVERIFY(!qs::gui::largestErrorLinear(data.experiments[1]));  // nothing quantized
        // Without perplexities: the first quantized experiment.
        for (auto& e : data.experiments)
            e.perplexity.clear();
        QCOMPARE(qs::gui::bestExperimentId(data), QStringLiteral("exp-a"));
        data.experiments = {data.experiments[1]};
        QVERIFY(qs::gui::bestExperimentId(data).isEmpty());
    }

    void treeShowsLayersAndLinears()
    {
        QS_REQUIRE_MODEL();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.openModel(m_modelDir));
        // The recipe builder's range spans the checkpoint's layers at once, before the
        // session's baseline is there.
        auto* runRange =
            window.recipeBuilder()->findChild<QPushButton*>(QStringLiteral("runRange"));
        QVERIFY(runRange);
        QCOMPARE(runRange->text(), QStringLiteral("Run on layers 0–4"));
        const ModelTree* tree = window.modelTree();
        QCOMPARE(tree->topLevelItemCount(), 1);
        QTreeWidgetItem* root = tree->topLevelItem(0);
        QVERIFY2(root->text(ModelTree::NameColumn).contains("stories260K"),
                 qPrintable(root->text(ModelTree::NameColumn)));
        QVERIFY(root->toolTip(ModelTree::NameColumn).contains("llama"));
        QVERIFY(!root->text(ModelTree::ParametersColumn).isEmpty());
        QCOMPARE(tree->layerCount(), 5);
        for (int i = 0; i < root->childCount(); ++i) {
            QCOMPARE(root->child(i)->text(ModelTree::NameColumn),
                     QStringLiteral("Layer %1").arg(i));
            QCOMPARE(root->child(i)->childCount(), 7);
        }
        QTreeWidgetItem* q = tree->findLinear(k_qProj);
        QVERIFY(q);
        QCOMPARE(q->text(ModelTree::ShapeColumn), QStringLiteral("[64 x 64]"));
        QCOMPARE(q->text(ModelTree::ParametersColumn), QStringLiteral("4.1 K"));
        QTreeWidgetItem* k = tree->findLinear(k_kProj);
        QVERIFY(k);
        QCOMPARE(k->text(ModelTree::ShapeColumn), QStringLiteral("[32 x 64]"));  // 4 KV heads
        QTreeWidgetItem* down = tree->findLinear(k_downProj);
        QVERIFY(down);
        QCOMPARE(down->text(ModelTree::ShapeColumn), QStringLiteral("[64 x 172]"));
    }

    void selectingLinearShowsStats()
    {
        QS_REQUIRE_MODEL();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.show();
        QVERIFY(window.openModel(m_modelDir));
        QVERIFY(selectAndWait(window, k_qProj));

        const auto* inspector = window.inspector();
        QVERIFY(qs::gui::plottedPointCount(inspector->histogramPlot()) > 0);
        QCOMPARE(qs::gui::plottedPointCount(inspector->outChannelPlot()), 64);
        QCOMPARE(qs::gui::plottedPointCount(inspector->inChannelPlot()), 64);
        QVERIFY2(inspector->kurtosisText().contains("Pearson"),
                 qPrintable(inspector->kurtosisText()));
        QVERIFY(inspector->kurtosisText().contains("excess"));
        QVERIFY(inspector->headerText().contains(k_qProj));
        QVERIFY(inspector->headerText().contains("[64 x 64]"));
        QVERIFY(inspector->headerText().contains("F32"));
        QVERIFY(!window.progressBar()->isVisible());

        // A non-square module: rows and columns must not be swapped.
        QVERIFY(selectAndWait(window, k_downProj));
        QCOMPARE(qs::gui::plottedPointCount(inspector->outChannelPlot()), 64);
        QCOMPARE(qs::gui::plottedPointCount(inspector->inChannelPlot()), 172);
    }

    void latestSelectionWins()
    {
        QS_REQUIRE_MODEL();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.openModel(m_modelDir));
        QSignalSpy shown(window.inspector(), &qs::gui::TensorInspector::statsShown);
        // Rapid re-selection: every job but the last is cancelled or its result dropped.
        const QStringList linears = allLinears(window.modelTree());
        QCOMPARE(linears.size(), 35);
        for (const QString& name : linears)
            window.modelTree()->selectLinear(name);
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty(), k_statsTimeoutMs);
        QTest::qWait(200);  // late results of superseded jobs would arrive here
        QCOMPARE(shown.size(), 1);
        QCOMPARE(shown.front().at(0).toString(), linears.back());
    }

    void eventLoopStaysResponsiveWhileJobsRun()
    {
        QS_REQUIRE_MODEL();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.show();
        QVERIFY(window.openModel(m_modelDir));

        QElapsedTimer clock;
        qint64 last = 0, maxGap = 0;
        int ticks = 0;
        QTimer ticker;
        ticker.setInterval(10);
        connect(&ticker, &QTimer::timeout, this, [&] {
            const qint64 now = clock.elapsed();
            maxGap = std::max(maxGap, now - last);
            last = now;
            ++ticks;
        });
        clock.start();
        ticker.start();
        for (const QString& name : allLinears(window.modelTree()))
            QVERIFY2(selectAndWait(window, name), qPrintable(name));
        ticker.stop();
        const qint64 total = clock.elapsed();
        qInfo("35 stats jobs in %lld ms, %d timer ticks, max gap %lld ms", total, ticks, maxGap);
        QVERIFY2(maxGap < 100, qPrintable(QStringLiteral("max event-loop gap %1 ms").arg(maxGap)));
    }

    // stories260K jobs finish in milliseconds; this one keeps a worker busy long enough for
    // the 10 ms ticker to sample the GUI thread while libtorch runs on the other threads.
    void eventLoopStaysResponsiveDuringLargeJob()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::int64_t rows = 2048, cols = 4096;
        std::vector<float> values(static_cast<std::size_t>(rows * cols));
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.0f, 0.02f);
        for (float& v : values)
            v = normal(rng);
        qs::SafetensorsWriter writer;
        writer.add_f32("big.weight", {rows, cols}, values.data());
        writer.write(dir.filePath("model.safetensors").toStdString());
        values = {};

        qs::gui::StatsJob job;
        QSignalSpy ready(&job, &qs::gui::StatsJob::statsReady);
        QSignalSpy failed(&job, &qs::gui::StatsJob::failed);
        QElapsedTimer clock;
        qint64 last = 0, maxGap = 0;
        int ticks = 0;
        QTimer ticker;
        ticker.setInterval(10);
        connect(&ticker, &QTimer::timeout, this, [&] {
            const qint64 now = clock.elapsed();
            maxGap = std::max(maxGap, now - last);
            last = now;
            ++ticks;
        });
        clock.start();
        ticker.start();
        job.start(dir.path(), QStringLiteral("big.weight"));
        QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 60000);
        ticker.stop();
        QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(1).toString()));
        const auto stats = ready.front().at(0).value<qs::WeightStats>();
        QCOMPARE(stats.out_channel_absmax.size(), std::size_t(rows));
        QCOMPARE(stats.in_channel_absmax.size(), std::size_t(cols));
        qInfo("[%lld x %lld] stats in %lld ms, %d timer ticks, max gap %lld ms", rows, cols,
              clock.elapsed(), ticks, maxGap);
        QVERIFY2(maxGap < 100, qPrintable(QStringLiteral("max event-loop gap %1 ms").arg(maxGap)));
    }

    void openingMissingDirectoryReportsError()
    {
        MainWindow window;
        window.show();
        QSignalSpy failed(&window, &MainWindow::modelOpenFailed);
        const QString missing = QDir::tempPath() + "/quantscope-no-such-model-dir";
        QVERIFY(!window.openModel(missing));
        QCOMPARE(failed.size(), 1);
        QVERIFY(!window.isModelOpen());
        QVERIFY2(window.statusMessage().contains("Cannot open model"),
                 qPrintable(window.statusMessage()));
        // The warning is non-blocking: we got here, and it can be closed.
        auto* box = window.findChild<QMessageBox*>();
        QVERIFY(box);
        QVERIFY(box->text().contains("quantscope-no-such-model-dir"));
        box->close();
    }

    void failedOpenKeepsCurrentModel()
    {
        QS_REQUIRE_MODEL();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.openModel(m_modelDir));
        QVERIFY(!window.openModel(QDir::tempPath() + "/quantscope-no-such-model-dir"));
        QVERIFY(window.isModelOpen());
        QCOMPARE(window.modelTree()->layerCount(), 5);
    }

    void droppingAFolderOpensIt()
    {
        QS_REQUIRE_MODEL();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.show();
        QMimeData mime;
        // A file inside the folder stands for the folder.
        mime.setUrls({QUrl::fromLocalFile(m_modelDir + "/config.json")});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QVERIFY(window.isModelOpen());
        QCOMPARE(window.modelTree()->layerCount(), 5);
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
