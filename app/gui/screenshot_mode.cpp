#include "app/gui/screenshot_mode.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include <QApplication>
#include <QPixmap>
#include <QTimer>

#include "widgets/kurtosis_map_view.h"
#include "widgets/main_window.h"
#include "widgets/model_tree.h"
#include "widgets/recipe_builder.h"
#include "widgets/session_controller.h"
#include "widgets/session_model.h"
#include "widgets/stats_job.h"
#include "widgets/tensor_inspector.h"

namespace qs::gui {
namespace {

void printError(const QString& message)
{
    std::fprintf(stderr, "quantscope: %s\n", qPrintable(message));
}

MainWindow::View viewOf(const QString& name)
{
    static const QStringList names = screenshotViews();
    return static_cast<MainWindow::View>(std::max(0, int(names.indexOf(name))));
}

// The quantized experiment with the lowest perplexity on the first dataset.
QString bestExperiment(const qs::SessionData& data)
{
    QString best;
    double bestPpl = std::numeric_limits<double>::infinity();
    for (const auto& e : data.experiments) {
        if (e.linears.empty() || e.perplexity.empty()) continue;
        if (std::isfinite(e.perplexity.front().ppl) && e.perplexity.front().ppl < bestPpl) {
            bestPpl = e.perplexity.front().ppl;
            best = QString::fromStdString(e.id);
        }
    }
    return best;
}

void grabAndExit(QApplication& app, MainWindow& window, const QString& file)
{
    // Let queued replots and layout settle before the grab.
    QTimer::singleShot(800, &app, [&app, &window, file] {
        const QPixmap shot = window.grab();
        if (!shot.save(file, "PNG")) {
            printError(QStringLiteral("cannot write %1").arg(file));
            app.exit(1);
            return;
        }
        std::printf("%s: %dx%d\n", qPrintable(file), shot.width(), shot.height());
        app.exit(0);
    });
}

void applySelection(MainWindow& window, const ScreenshotRequest& request)
{
    SessionModel* session = window.session();
    const QString experiment = request.experiment == QLatin1String("best")
                                   ? bestExperiment(session->data())
                                   : request.experiment;
    if (!experiment.isEmpty()) session->selectExperiment(experiment);
    if (!request.compared.isEmpty()) session->selectComparedExperiment(request.compared);
    if (request.layer >= 0) session->selectLinear(request.layer, request.module);
    if (request.activations) window.kurtosisMap()->setTensorKind(TensorKind::Activations);
    window.showView(viewOf(request.view));
}

// --run-recipe: the recipe goes through the builder and its run button's slot, so the dock
// shows what was run; the grab waits for the experiment to be appended to the session.
void runRecipeThenGrab(QApplication& app, MainWindow& window, const ScreenshotRequest& request)
{
    if (!window.controller()->canRunExperiments()) {
        printError(
            QStringLiteral("--run-recipe: the session's model folder is not on this machine"));
        app.exit(1);
        return;
    }
    RecipeBuilder* builder = window.recipeBuilder();
    QObject::connect(
        window.controller(), &SessionController::experimentAdded, &app,
        [&app, &window, request](const QString& id) {
            ScreenshotRequest shown = request;
            shown.experiment = id;
            applySelection(window, shown);
            grabAndExit(app, window, request.file);
        },
        Qt::SingleShotConnection);
    if (!builder->loadFile(request.runRecipe) || !builder->requestRun(builder->scope())) {
        printError(QStringLiteral("%1: %2").arg(request.runRecipe, builder->errorText()));
        app.exit(1);
    }
}

}  // namespace

QStringList screenshotViews()
{
    // In MainWindow::View order.
    return {QStringLiteral("layer"), QStringLiteral("weights"), QStringLiteral("kurtosis"),
            QStringLiteral("depth"), QStringLiteral("pareto"),  QStringLiteral("compare")};
}

int runScreenshot(QApplication& app, MainWindow& window, const ScreenshotRequest& request)
{
    window.setErrorDialogsEnabled(false);
    window.resize(request.size);
    QObject::connect(&window, &MainWindow::modelOpenFailed, &app, [&app](const QString& m) {
        printError(m);
        app.exit(1);
    });
    QObject::connect(window.statsJob(), &StatsJob::failed, &app,
                     [&app](const QString& tensor, const QString& message) {
                         printError(QStringLiteral("%1: %2").arg(tensor, message));
                         app.exit(1);
                     });
    QTimer::singleShot(request.timeoutMs, &app, [&app, &request] {
        printError(QStringLiteral("timed out after %1 s waiting for the view")
                       .arg(request.timeoutMs / 1000));
        app.exit(1);
    });
    window.show();

    const bool checkpointOnly =
        request.view == QLatin1String("weights") && request.sessionPath.isEmpty();
    if (checkpointOnly) {
        QObject::connect(window.inspector(), &TensorInspector::statsShown, &app,
                         [&] { grabAndExit(app, window, request.file); });
        if (!window.openModel(request.modelDir, /*startSession=*/false)) return 1;
        window.showView(MainWindow::View::Weights);
        if (!window.modelTree()->selectFirstLinear()) {
            printError(QStringLiteral("%1: the model has no linear modules to show")
                           .arg(request.modelDir));
            return 1;
        }
        return app.exec();
    }

    // A session (opened, or created for the model with its baseline): wait until it is there.
    QObject::connect(&window, &MainWindow::sessionOpened, &app, [&] {
        applySelection(window, request);
        if (request.runRecipe.isEmpty())
            grabAndExit(app, window, request.file);
        else
            runRecipeThenGrab(app, window, request);
    });
    QObject::connect(window.controller(), &SessionController::failed, &app,
                     [&app](const QString& message) {
                         printError(message);
                         app.exit(1);
                     });
    if (!request.sessionPath.isEmpty())
        window.openSession(request.sessionPath);
    else if (!window.openModel(request.modelDir))
        return 1;
    return app.exec();
}

}  // namespace qs::gui
