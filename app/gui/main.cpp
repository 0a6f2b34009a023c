// quantscope: the desktop GUI. Besides interactive use it has two headless modes:
// --screenshot (app/gui/screenshot_mode.h) and --export-figures (app/gui/export_figures.h).
#include <cstdio>

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSize>

#include "app/gui/export_figures.h"
#include "app/gui/screenshot_mode.h"
#include "core/util/threading.h"
#include "widgets/main_window.h"

namespace {

void printError(const QString& message)
{
    std::fprintf(stderr, "quantscope: %s\n", qPrintable(message));
}

QSize parseSize(const QString& text)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\d+)x(\\d+)$"));
    const auto match = pattern.match(text);
    if (!match.hasMatch()) return {};
    return {match.captured(1).toInt(), match.captured(2).toInt()};
}

bool isSessionFile(const QString& path)
{
    const QFileInfo info(path);
    return info.isFile() &&
           (info.suffix() == QLatin1String("h5") || info.suffix() == QLatin1String("hdf5"));
}

// Printed after the option list of --help.
const char* const kExamples =
    "\nExamples:\n"
    "  quantscope ../shared/models/stories260K/hf      open a model (a new autosaved session)\n"
    "  quantscope /tmp/stories.h5                      open a session (quantscope-cli sweep)\n"
    "  quantscope --session-file /tmp/stories.h5 --view pareto --screenshot pareto.png\n"
    "  quantscope --export-figures /tmp/stories.h5 --out figs --preset one-column\n"
    "\nWithout a display set QT_QPA_PLATFORM=offscreen for --screenshot. The command-line tool\n"
    "is quantscope-cli (quantscope-cli --help).\n";

}  // namespace

int main(int argc, char** argv)
{
    qs::reexec_with_passive_openmp_wait(argv);  // idle OpenMP threads must not starve the GUI
    // Headless figure export has its own options and application (app/gui/export_figures.h).
    if (qs::gui::isExportFiguresCall(argc, argv)) return qs::gui::exportFiguresMain(argc, argv);
    // Without a display, Qt's default platform plugin aborts inside QApplication, before the
    // parser runs: start offscreen instead, so --help, --version, usage errors and --screenshot
    // work, and refuse only the interactive window below with a message saying why.
    const bool noDisplay = qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
                           qEnvironmentVariableIsEmpty("DISPLAY") &&
                           qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
    if (noDisplay) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("QuantScope"));
    QApplication::setOrganizationName(QStringLiteral("QuantScope"));
    QApplication::setApplicationVersion(QStringLiteral(QS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Opens a model folder or a session file in QuantScope, the workbench for "
        "post-training\nquantization of LLMs (without a path: the start page).\n"
        "Also: quantscope --export-figures FILE.h5 --out DIR [--preset one-column] writes a "
        "session's\nfigures without a window (quantscope --export-figures --help)."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption modelOption(
        QStringLiteral("model"), QStringLiteral("Open the Hugging Face model folder <dir>."),
        QStringLiteral("dir"));
    const QCommandLineOption sessionOption(
        QStringLiteral("session-file"),  // not "session": QGuiApplication takes it (X11)
        QStringLiteral("Open the session file <file.h5>."), QStringLiteral("file"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Open the model or session, show --view, save the window as a PNG to "
                       "<file> and exit (works with QT_QPA_PLATFORM=offscreen)."),
        QStringLiteral("file"));
    const QCommandLineOption viewOption(
        QStringLiteral("view"),
        QStringLiteral("View for --screenshot: %1 (default weights for a model, layer for a "
                       "session).")
            .arg(qs::gui::screenshotViews().join(QStringLiteral(", "))),
        QStringLiteral("name"));
    const QCommandLineOption experimentOption(
        QStringLiteral("experiment"),
        QStringLiteral("Experiment id to select for --screenshot, or \"best\"."),
        QStringLiteral("id"));
    const QCommandLineOption compareOption(
        QStringLiteral("compare"), QStringLiteral("Experiment id to compare with (--screenshot)."),
        QStringLiteral("id"));
    const QCommandLineOption linearOption(
        QStringLiteral("linear"),
        QStringLiteral("Linear to select for --screenshot, as LAYER:MODULE (4:mlp.down_proj)."),
        QStringLiteral("layer:module"));
    const QCommandLineOption activationsOption(
        QStringLiteral("activations"),
        QStringLiteral("Kurtosis map of activations instead of weights (--screenshot)."));
    const QCommandLineOption sizeOption(
        QStringLiteral("size"), QStringLiteral("Window size for --screenshot (default 1400x900)."),
        QStringLiteral("WxH"), QStringLiteral("1400x900"));
    const QCommandLineOption timeoutOption(
        QStringLiteral("timeout"),
        QStringLiteral("Seconds --screenshot waits for the view before failing (default 120)."),
        QStringLiteral("seconds"), QStringLiteral("120"));
    const QCommandLineOption runRecipeOption(
        QStringLiteral("run-recipe"),
        QStringLiteral("Recipe YAML to run before --screenshot, as the recipe builder's run "
                       "button does (scope from its layers); the new experiment is shown."),
        QStringLiteral("file"));
    parser.addOptions({modelOption, sessionOption, screenshotOption, viewOption, experimentOption,
                       compareOption, linearOption, activationsOption, sizeOption, timeoutOption,
                       runRecipeOption});
    parser.addPositionalArgument(QStringLiteral("path"),
                                 QStringLiteral("Model folder or session file to open."),
                                 QStringLiteral("[path]"));
    if (!parser.parse(QApplication::arguments())) {
        printError(parser.errorText() +
                   QStringLiteral(" (run 'quantscope --help' for the options)"));
        return 2;
    }
    if (parser.isSet(QStringLiteral("help-all"))) parser.process(app);  // Qt's options too; exits
    if (parser.isSet(helpOption)) {
        std::printf("%s%s", qPrintable(parser.helpText()), kExamples);
        return 0;
    }
    if (parser.isSet(versionOption)) {
        std::printf("QuantScope %s\n", QS_VERSION);
        return 0;
    }

    QString modelDir = parser.value(modelOption);
    QString sessionPath = parser.value(sessionOption);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1 ||
        (!positional.isEmpty() && (!modelDir.isEmpty() || !sessionPath.isEmpty())) ||
        (!modelDir.isEmpty() && !sessionPath.isEmpty())) {
        printError(
            QStringLiteral("give one model folder or one session file, e.g. quantscope "
                           "MODEL_DIR or quantscope SESSION.h5"));
        return 2;
    }
    if (!positional.isEmpty()) {
        if (isSessionFile(positional.front()))
            sessionPath = positional.front();
        else
            modelDir = positional.front();
    }

    qs::configure_threads();
    qs::gui::MainWindow window;

    if (parser.isSet(screenshotOption)) {
        qs::gui::ScreenshotRequest request;
        request.file = parser.value(screenshotOption);
        request.modelDir = modelDir;
        request.sessionPath = sessionPath;
        request.view = parser.value(viewOption);
        if (request.view.isEmpty())
            request.view =
                sessionPath.isEmpty() ? QStringLiteral("weights") : QStringLiteral("layer");
        request.experiment = parser.value(experimentOption);
        request.compared = parser.value(compareOption);
        request.activations = parser.isSet(activationsOption);
        request.runRecipe = parser.value(runRecipeOption);
        request.size = parseSize(parser.value(sizeOption));
        bool timeoutOk = false;
        const int timeoutS = parser.value(timeoutOption).toInt(&timeoutOk);
        if (modelDir.isEmpty() && sessionPath.isEmpty()) {
            printError(QStringLiteral("--screenshot needs a model folder or a session file"));
            return 2;
        }
        if (!qs::gui::screenshotViews().contains(request.view)) {
            printError(QStringLiteral("--view must be one of: %1")
                           .arg(qs::gui::screenshotViews().join(QStringLiteral(", "))));
            return 2;
        }
        if (parser.isSet(linearOption)) {
            const QString text = parser.value(linearOption);
            const int colon = text.indexOf(QLatin1Char(':'));
            bool layerOk = false;
            request.layer = colon > 0 ? text.left(colon).toInt(&layerOk) : -1;
            request.module = text.mid(colon + 1);
            if (!layerOk || request.module.isEmpty()) {
                printError(QStringLiteral("--linear must be LAYER:MODULE, e.g. 4:mlp.down_proj"));
                return 2;
            }
        }
        if (!request.size.isValid() || request.size.width() < 400 || request.size.height() < 300) {
            printError(QStringLiteral("--size must be WIDTHxHEIGHT, at least 400x300"));
            return 2;
        }
        if (!timeoutOk || timeoutS <= 0) {
            printError(QStringLiteral("--timeout must be a positive number of seconds"));
            return 2;
        }
        request.timeoutMs = timeoutS * 1000;
        return qs::gui::runScreenshot(app, window, request);
    }

    if (noDisplay) {
        printError(
            QStringLiteral("no display (DISPLAY and WAYLAND_DISPLAY are unset): run it in a "
                           "desktop session, or use --screenshot / --export-figures, which "
                           "work without one"));
        return 1;
    }
    window.show();
    if (!sessionPath.isEmpty())
        window.openSession(sessionPath);
    else if (!modelDir.isEmpty())
        window.openModel(modelDir);
    return app.exec();
}
