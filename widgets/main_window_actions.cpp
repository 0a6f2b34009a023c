// MainWindow's user actions: file dialogs, drag and drop, figure export, running recipes.
// (Construction and layout are in main_window.cpp.)
#include <exception>

#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMimeData>
#include <QSettings>
#include <QUrl>

#include "core/quant/recipe.h"
#include "widgets/figure_export.h"
#include "widgets/figure_export_dialog.h"
#include "widgets/kurtosis_map_view.h"
#include "widgets/layer_inspector.h"
#include "widgets/main_window.h"
#include "widgets/pareto_view.h"
#include "widgets/compare_view.h"
#include "widgets/depth_error_view.h"
#include "widgets/session_controller.h"
#include "widgets/session_model.h"

namespace qs::gui {

void MainWindow::chooseModelDirectory()
{
    QSettings settings;
    const QString start = settings.value("dialogs/modelDir", modelDirectory()).toString();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"), start,
                                                          QFileDialog::ShowDirsOnly);
    if (dir.isEmpty()) return;
    settings.setValue("dialogs/modelDir", QFileInfo(dir).absolutePath());
    openModel(dir);
}

void MainWindow::chooseSessionFile()
{
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Session"), settings.value("dialogs/sessionDir").toString(),
        tr("QuantScope sessions (*.h5 *.hdf5);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue("dialogs/sessionDir", QFileInfo(path).absolutePath());
    openSession(path);
}

void MainWindow::saveSessionAs()
{
    QSettings settings;
    QString path = QFileDialog::getSaveFileName(this, tr("Save Session As"),
                                                settings.value("dialogs/sessionDir").toString(),
                                                tr("QuantScope sessions (*.h5)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".h5");
    settings.setValue("dialogs/sessionDir", QFileInfo(path).absolutePath());
    QString error;
    if (!m_controller->saveSessionAs(path, &error)) {
        showError(tr("Save Session"), error);
        return;
    }
    showStatus(tr("Session saved as %1; later experiments go there too.").arg(path));
}

void MainWindow::exportCurrentFigure()
{
    FigureView* view = currentFigure();
    if (!view || !view->hasFigure()) {
        showError(tr("Export Figure"), tr("The current view has no figure to export yet."));
        return;
    }
    FigureExportDialog dialog(view->figureName(), this);
    if (dialog.exec() != QDialog::Accepted) return;
    dialog.remember();
    try {
        const QStringList written = exportFigure(*view, dialog.options());
        showStatus(tr("Wrote %1").arg(written.join(QStringLiteral(", "))));
    } catch (const std::exception& e) {
        showError(tr("Export Figure"), QString::fromStdString(e.what()));
    }
}

void MainWindow::exportAllFigures()
{
    QList<FigureView*> views = {m_kurtosis, m_depth, m_pareto, m_compare};
    views += m_layerInspector->figureViews();
    FigureExportDialog dialog(QString(), this);
    dialog.setWindowTitle(tr("Export All Figures"));
    if (dialog.exec() != QDialog::Accepted) return;
    dialog.remember();
    FigureExportOptions options = dialog.options();
    options.stem.clear();  // each figure under its own name
    int files = 0;
    try {
        for (FigureView* view : views)
            if (view->hasFigure()) files += int(exportFigure(*view, options).size());
        showStatus(tr("Wrote %1 files to %2").arg(files).arg(options.outDir));
    } catch (const std::exception& e) {
        showError(tr("Export All Figures"), QString::fromStdString(e.what()));
    }
}

void MainWindow::runRecipe(const qs::Recipe& recipe)
{
    if (!m_controller->canRunExperiments()) {
        showError(tr("Run Recipe"),
                  tr("Open a model (or a session whose model is on this machine) first."));
        return;
    }
    m_controller->runRecipe(recipe);
    showStatus(tr("Queued %1 (see the Jobs panel).").arg(QString::fromStdString(recipe.name)));
}

void MainWindow::resetSelectedLayer()
{
    const int layer = m_session->selectedLayer();
    if (layer < 0) {
        showError(tr("Reset Layer"), tr("Select a layer or linear in the model tree first."));
        return;
    }
    QString error;
    if (!m_controller->resetLayerToFullPrecision(layer, &error))
        showError(tr("Reset Layer"), error);
    else
        showStatus(
            tr("Queued the selected recipe again with layer %1 in full precision.").arg(layer));
}

QString MainWindow::droppedPath(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls() || mime->urls().isEmpty()) return {};
    const QUrl url = mime->urls().front();
    if (!url.isLocalFile()) return {};
    const QFileInfo info(url.toLocalFile());
    if (info.isDir()) return info.absoluteFilePath();
    // A session file opens as a session; a config.json or safetensors file stands for the
    // model folder it lives in.
    if (info.isFile() &&
        (info.suffix() == QLatin1String("h5") || info.suffix() == QLatin1String("hdf5")))
        return info.absoluteFilePath();
    if (info.isFile()) return info.absolutePath();
    return {};
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (!droppedPath(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QString path = droppedPath(event->mimeData());
    if (path.isEmpty()) return;
    event->acceptProposedAction();
    if (QFileInfo(path).isFile())
        openSession(path);
    else
        openModel(path);
}

}  // namespace qs::gui
