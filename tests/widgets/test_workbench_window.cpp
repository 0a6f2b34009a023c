// Offscreen end-to-end tests of the workbench on the real stories260K checkpoint: a model opens
// into an autosaved session with its baseline, recipes run as queued jobs and land in the
// session file and every view, "reset layer to full precision" and "save as" work, a session
// file opens by drag and drop, and selections travel between the views.
#include <QDir>
#include <QDropEvent>
#include <QFileInfo>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

#include "core/session/session_file.h"
#include "core/util/threading.h"
#include "widgets/compare_view.h"
#include "widgets/experiment_list.h"
#include "widgets/job_queue.h"
#include "widgets/main_window.h"
#include "widgets/model_tree.h"
#include "widgets/pareto_view.h"
#include "widgets/recent_files.h"
#include "widgets/recipe_builder.h"
#include "widgets/session_controller.h"
#include "widgets/session_model.h"

using qs::gui::MainWindow;

namespace {

QString sharedDir()
{
    const QByteArray env = qgetenv("QS_SHARED");
    return env.isEmpty() ? QStringLiteral(QS_SHARED_DEFAULT) : QString::fromLocal8Bit(env);
}

constexpr int k_jobTimeoutMs = 240000;

qs::Recipe rtnRecipe(const MainWindow& window, const std::string& name)
{
    qs::Recipe recipe = window.controller()->recipeDefaults();
    recipe.name = name;
    recipe.methods = {qs::Method::Rtn};
    recipe.weights = qs::QuantFormat::parse("int4-g32-asym");
    return recipe;
}

// Waits until the window's session holds `count` experiments.
bool waitForExperiments(const MainWindow& window, int count)
{
    return QTest::qWaitFor(
        [&] { return int(window.session()->data().experiments.size()) >= count; }, k_jobTimeoutMs);
}

}  // namespace

class TestWorkbenchWindow : public QObject {
    Q_OBJECT

private:
    QString m_modelDir;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);  // autosaves and settings stay out of $HOME
        QCoreApplication::setOrganizationName(QStringLiteral("QuantScopeTests"));
        QCoreApplication::setApplicationName(QStringLiteral("test_workbench_window"));
        QSettings().clear();
        qs::configure_threads();
        m_modelDir = sharedDir() + "/models/stories260K/hf";
        if (!QFileInfo::exists(m_modelDir + "/config.json"))
            QSKIP(qPrintable("stories260K not found at " + m_modelDir));
    }

    void modelSessionRecipesResetAndSaveAs()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.show();
        QSignalSpy opened(&window, &MainWindow::sessionOpened);
        QVERIFY(window.openModel(m_modelDir));
        QVERIFY(opened.wait(k_jobTimeoutMs));
        auto* session = window.session();
        const QString autosaved = session->path();
        QVERIFY2(autosaved.startsWith(qs::gui::SessionController::autosaveDirectory()),
                 qPrintable(autosaved));
        // The suffix the desktop's session MIME type matches (resources/quantscope-mime.xml).
        QVERIFY2(autosaved.endsWith(".quantscope.h5"), qPrintable(autosaved));
        QCOMPARE(session->numLayers(), 5);
        QCOMPARE(int(session->data().baseline.size()), 35);
        QVERIFY(!session->data().baseline.front().activation_stats.at("original").empty());
        QVERIFY(window.windowTitle().contains("autosaved"));

        // A recipe from the builder's "whole model" button runs as a job and is saved.
        window.recipeBuilder()->setRecipe(rtnRecipe(window, "rtn-w4g32"));
        QVERIFY(window.recipeBuilder()->requestRun(qs::gui::RecipeBuilder::Scope::WholeModel));
        QVERIFY(waitForExperiments(window, 1));
        const auto first = session->data().experiments.front();
        QCOMPARE(first.name, std::string("rtn-w4g32"));
        QCOMPARE(int(first.linears.size()), 35);
        QVERIFY(!first.perplexity.empty() && first.perplexity.front().ppl > 1);
        QCOMPARE(session->selectedExperiment(), QString::fromStdString(first.id));
        // The first experiment also selects its largest-error linear: the layer view has data.
        QVERIFY(session->selectedLayer() >= 0);
        QCOMPARE(qs::list_experiments(autosaved.toStdString()).size(), std::size_t(1));
        QCOMPARE(window.experimentList()->rowCount(), 1);

        // Reset layer 2 of the selected experiment to full precision: a new experiment whose
        // recipe keeps layer 2 and whose records hold no layer-2 linear.
        session->selectLinear(2, QStringLiteral("mlp.down_proj"));
        QString error;
        QVERIFY2(window.controller()->resetLayerToFullPrecision(2, &error), qPrintable(error));
        QVERIFY(waitForExperiments(window, 2));
        const auto reset = session->data().experiments.back();
        QVERIFY(reset.recipe_yaml.find("full_precision_layers") != std::string::npos);
        QCOMPARE(int(reset.linears.size()), 28);
        for (const auto& linear : reset.linears)
            QVERIFY(linear.layer != 2);
        // Layer 2 at 16 bits: bigger than the fully quantized model.
        QVERIFY(reset.size.total_bits > first.size.total_bits);

        // Compare: A = the reset experiment (selected), B = the first.
        session->selectComparedExperiment(QString::fromStdString(first.id));
        QCOMPARE(session->selectedExperiment(), QString::fromStdString(reset.id));
        const QString csv = window.compare()->figureCsv();
        QCOMPARE(csv.count('\n'), 1 + 35);  // header + union of both experiments' linears
        QVERIFY(csv.section('\n', 1, 1).startsWith("0,self_attn.q_proj,"));

        // Pareto: both experiments plotted; clicking one selects it everywhere.
        QTRY_COMPARE(window.pareto()->plottedIds().size(), 2);
        window.showView(MainWindow::View::Pareto);
        const QString firstId = QString::fromStdString(first.id);
        const QPointF pixel = window.pareto()->pointPixel(firstId);
        QCOMPARE(window.pareto()->experimentAt(pixel), firstId);
        session->selectExperiment(firstId);
        QCOMPARE(window.experimentList()->currentRow(), window.experimentList()->rowOf(firstId));

        // Save As: a copy that later experiments go to; the autosave stays as it was.
        QTemporaryDir dir;
        const QString saved = dir.filePath("study.h5");
        QVERIFY2(window.controller()->saveSessionAs(saved, &error), qPrintable(error));
        QCOMPARE(session->path(), saved);
        QCOMPARE(qs::list_experiments(saved.toStdString()).size(), std::size_t(2));
        QVERIFY(window.windowTitle().contains("study.h5"));
        qs::gui::RecentFiles recent;
        QCOMPARE(recent.entries(qs::gui::RecentFiles::Kind::Session).value(0), saved);
        QVERIFY(
            recent.entries(qs::gui::RecentFiles::Kind::Model).value(0).endsWith("stories260K/hf"));
    }

    void saveQuantizedModelThenImportIt()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QSignalSpy opened(&window, &MainWindow::sessionOpened);
        QVERIFY(window.openModel(m_modelDir));
        QVERIFY(opened.wait(k_jobTimeoutMs));
        auto* controller = window.controller();
        QSignalSpy messages(controller, &qs::gui::SessionController::message);
        QSignalSpy failures(controller, &qs::gui::SessionController::failed);
        QTemporaryDir dir;
        const QString out = dir.filePath("awq");
        controller->exportCheckpoint(rtnRecipe(window, "rtn-w4g32"), "awq", out, false);
        QVERIFY(QTest::qWaitFor([&] { return !messages.isEmpty() || !failures.isEmpty(); },
                                k_jobTimeoutMs));
        QVERIFY2(failures.isEmpty(), qPrintable(failures.value(0).value(0).toString()));
        QVERIFY(messages.back().front().toString().contains(out));
        QFile config(out + "/config.json");
        QVERIFY(config.open(QIODevice::ReadOnly));
        QVERIFY(config.readAll().contains("\"awq\""));

        // A format the recipe cannot take is refused and writes nothing.
        failures.clear();
        controller->exportCheckpoint(rtnRecipe(window, "rtn-w4g32"), "gguf-q4_0",
                                     dir.filePath("gguf"), false);
        QVERIFY(failures.wait(k_jobTimeoutMs));
        QVERIFY2(failures.front().front().toString().contains("fit"),
                 qPrintable(failures.front().front().toString()));
        QVERIFY(!QFileInfo::exists(dir.filePath("gguf")));

        // The AWQ folder imports into a float checkpoint, which opens as a model.
        QSignalSpy imported(controller, &qs::gui::SessionController::checkpointImported);
        QSignalSpy modelOpened(&window, &MainWindow::modelOpened);
        controller->importCheckpoint(out, dir.filePath("imported"));
        QVERIFY(imported.wait(k_jobTimeoutMs));
        QCOMPARE(QDir::cleanPath(imported.front().front().toString()),
                 QDir::cleanPath(dir.filePath("imported")));
        QTRY_VERIFY(!modelOpened.isEmpty());
        QCOMPARE(window.modelDirectory(), QDir::cleanPath(dir.filePath("imported")));
    }

    void droppedSessionOpensWithItsExperiments()
    {
        // A session written by core directly: header, baseline and two experiments.
        QTemporaryDir dir;
        const QString path = dir.filePath("dropped.h5");
        qs::SessionHeader header;
        header.model_path = m_modelDir.toStdString();
        header.num_layers = 5;
        header.architecture = "llama";
        qs::create_session(path.toStdString(), header);
        for (int i = 1; i <= 2; ++i) {
            qs::ExperimentRecord e;
            e.id = "exp-000" + std::to_string(i);
            e.name = "recipe-" + std::to_string(i);
            e.size.total_bits = 1000 * i;
            e.size.parameters = 100;
            e.perplexity.push_back({"wikitext2", "", 512, 4, 100.0 / i, 1});
            qs::LinearRecord linear;  // quantized linears: not the full-precision reference
            linear.module = "self_attn.q_proj";
            linear.method = "rtn";
            linear.output_sqnr_db = 20;
            e.linears.push_back(linear);
            linear.layer = 3;
            linear.module = "mlp.down_proj";
            linear.output_sqnr_db = 10 + i;  // the largest error of each experiment
            e.linears.push_back(linear);
            qs::append_experiment(path.toStdString(), e);
        }
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.show();
        QSignalSpy opened(&window, &MainWindow::sessionOpened);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QVERIFY(opened.wait(30000));
        QCOMPARE(window.session()->path(), path);
        QCOMPARE(window.experimentList()->rowCount(), 2);
        QCOMPARE(window.pareto()->frontierIds().size(), 2);  // smaller, or better ppl
        QVERIFY(window.controller()->canRunExperiments());   // its model exists here
        QCOMPARE(window.modelDirectory(), QDir::cleanPath(m_modelDir));
        // Nothing was selected: the best experiment (lowest perplexity) and its worst linear
        // are, so the views show data before the first click.
        QCOMPARE(window.session()->selectedExperiment(), QStringLiteral("exp-0002"));
        QCOMPARE(window.session()->selectedLayer(), 3);
        QCOMPARE(window.session()->selectedModule(), QStringLiteral("mlp.down_proj"));
    }

    void badSessionFileReportsErrorNamingIt()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath("not-a-session.h5");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("this is not HDF5");
        file.close();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QSignalSpy failed(window.controller(), &qs::gui::SessionController::failed);
        window.openSession(path);
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.front().front().toString().contains("not-a-session.h5"),
                 qPrintable(failed.front().front().toString()));
        QVERIFY(window.statusMessage().contains("not-a-session.h5"));
        QVERIFY(window.session()->data().experiments.empty());
    }
};

QTEST_MAIN(TestWorkbenchWindow)
#include "test_workbench_window.moc"
