// `quantscope --screenshot FILE.png`: opens a model or a session, shows one view with a chosen
// selection, saves the window as PNG and exits (works with QT_QPA_PLATFORM=offscreen). The docs'
// screenshots and the GUI smoke test use it. Driven by signals only (no processEvents): data
// ready -> selections -> a single-shot settle timer -> grab -> exit. Every failure exits
// non-zero with a message naming what failed.
#pragma once

#include <QSize>
#include <QString>

class QApplication;

namespace qs::gui {

class MainWindow;

struct ScreenshotRequest {
    QString file;
    QString modelDir;     // open this model (view "weights": checkpoint statistics only)
    QString sessionPath;  // or this session
    QString view = QStringLiteral("weights");  // layer, weights, kurtosis, depth, pareto, compare
    QString experiment;  // id to select ("best": lowest perplexity among quantized ones)
    QString compared;    // id to compare with
    int layer = -1;      // linear to select: layer and module
    QString module;
    bool activations = false;  // kurtosis map: activations instead of weights
    // A recipe YAML to run first, as the recipe builder's run button does (loaded into the
    // builder, scope from its `layers`); the screenshot shows the new experiment selected.
    QString runRecipe;
    QSize size{1400, 900};
    int timeoutMs = 60000;
};

// The view names --view accepts.
QStringList screenshotViews();

int runScreenshot(QApplication& app, MainWindow& window, const ScreenshotRequest& request);

}  // namespace qs::gui
