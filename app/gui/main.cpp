// quantscope: the desktop GUI. Besides interactive use it has a screenshot mode that opens a
// model, inspects its first linear module and saves the window as PNG without a display
// (QT_QPA_PLATFORM=offscreen), which the docs and the GUI smoke test use.
#include <cstdio>

#include <QApplication>
#include <QCommandLineParser>
#include <QPixmap>
#include <QRegularExpression>
#include <QSize>
#include <QTimer>

#include "core/util/threading.h"
#include "widgets/main_window.h"
#include "widgets/model_tree.h"
#include "widgets/stats_job.h"
#include "widgets/tensor_inspector.h"

namespace {

using qs::gui::MainWindow;

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

// Drives the window from signals only (no processEvents): stats ready -> let layout settle on
// a single-shot timer -> grab -> exit. Every failure path exits non-zero with a message.
int runScreenshot(QApplication& app, MainWindow& window, const QString& modelDir,
                  const QString& file, QSize size, int timeoutMs)
{
    window.setErrorDialogsEnabled(false);
    window.resize(size);
    QObject::connect(&window, &MainWindow::modelOpenFailed, &app, printError);
    QObject::connect(window.statsJob(), &qs::gui::StatsJob::failed, &app,
                     [&app](const QString& tensor, const QString& message) {
                         printError(QStringLiteral("%1: %2").arg(tensor, message));
                         app.exit(1);
                     });
    QObject::connect(window.inspector(), &qs::gui::TensorInspector::statsShown, &app, [&] {
        QTimer::singleShot(400, &app, [&] {
            const QPixmap shot = window.grab();
            if (!shot.save(file, "PNG")) {
                printError(QStringLiteral("cannot write %1").arg(file));
                app.exit(1);
                return;
            }
            std::printf("%s: %dx%d\n", qPrintable(file), shot.width(), shot.height());
            app.exit(0);
        });
    });
    QTimer::singleShot(timeoutMs, &app, [&app, timeoutMs] {
        printError(
            QStringLiteral("timed out after %1 s waiting for the plots").arg(timeoutMs / 1000));
        app.exit(1);
    });

    window.show();
    if (!window.openModel(modelDir)) return 1;  // the message was printed by modelOpenFailed
    if (!window.modelTree()->selectFirstLinear()) {
        printError(QStringLiteral("%1: the model has no linear modules to show").arg(modelDir));
        return 1;
    }
    return app.exec();
}

}  // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("QuantScope"));
    QApplication::setApplicationVersion(QStringLiteral(QS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("QuantScope: a workbench for post-training quantization of LLMs."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption modelOption(
        QStringLiteral("model"), QStringLiteral("Open the Hugging Face model folder <dir>."),
        QStringLiteral("dir"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Open the model, inspect its first linear module, save the window as a "
                       "PNG to <file> and exit (works with QT_QPA_PLATFORM=offscreen)."),
        QStringLiteral("file"));
    const QCommandLineOption sizeOption(
        QStringLiteral("size"), QStringLiteral("Window size for --screenshot (default 1400x900)."),
        QStringLiteral("WxH"), QStringLiteral("1400x900"));
    const QCommandLineOption timeoutOption(
        QStringLiteral("timeout"),
        QStringLiteral("Seconds --screenshot waits for the plots before failing (default 60)."),
        QStringLiteral("seconds"), QStringLiteral("60"));
    parser.addOptions({modelOption, screenshotOption, sizeOption, timeoutOption});
    parser.addPositionalArgument(QStringLiteral("dir"), QStringLiteral("Model folder to open."),
                                 QStringLiteral("[dir]"));
    parser.process(app);

    QString modelDir = parser.value(modelOption);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1 || (!positional.isEmpty() && !modelDir.isEmpty())) {
        printError(QStringLiteral("give one model folder, either positional or with --model"));
        return 2;
    }
    if (!positional.isEmpty()) modelDir = positional.front();

    qs::configure_threads();
    MainWindow window;

    if (parser.isSet(screenshotOption)) {
        const QSize size = parseSize(parser.value(sizeOption));
        bool timeoutOk = false;
        const int timeoutS = parser.value(timeoutOption).toInt(&timeoutOk);
        if (modelDir.isEmpty()) {
            printError(QStringLiteral("--screenshot needs a model folder (--model DIR)"));
            return 2;
        }
        if (!size.isValid() || size.width() < 400 || size.height() < 300) {
            printError(QStringLiteral("--size must be WIDTHxHEIGHT, at least 400x300"));
            return 2;
        }
        if (!timeoutOk || timeoutS <= 0) {
            printError(QStringLiteral("--timeout must be a positive number of seconds"));
            return 2;
        }
        return runScreenshot(app, window, modelDir, parser.value(screenshotOption), size,
                             timeoutS * 1000);
    }

    window.show();
    if (!modelDir.isEmpty()) window.openModel(modelDir);
    return app.exec();
}
