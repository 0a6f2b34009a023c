// MainWindow's user actions: file dialogs, drag and drop, figure export, running recipes.
// (Construction and layout are in main_window.cpp.)
#include <exception>
#include <optional>

#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QMimeData>
#include <QSettings>
#include <QUrl>

#include "core/quant/recipe.h"
#include "core/study/workbench.h"
#include "widgets/recipe_builder.h"
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
                                                tr("QuantScope sessions (*.quantscope.h5 *.h5)"));
    if (path.isEmpty()) return;
    // A bare name gets the suffix the desktop's session MIME type matches (quantscope-mime.xml).
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".quantscope.h5");
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

void MainWindow::saveQuantizedModel()
{
    // The selected experiment's recipe, else the recipe builder's.
    std::optional<qs::Recipe> recipe;
    QString error;
    if (const auto* e = m_session->currentExperiment()) {
        try {
            recipe = qs::Recipe::from_yaml(e->recipe_yaml, e->id);
        } catch (const std::exception& x) {
            error = QString::fromStdString(x.what());
        }
    } else {
        recipe = m_builder->validRecipe(RecipeBuilder::Scope::WholeModel, &error);
    }
    if (!recipe) {
        showError(tr("Save Quantized Model"), error);
        return;
    }
    QStringList formats;
    for (const auto& f : qs::Workbench::export_formats())
        formats << QString::fromStdString(f);
    QSettings settings;
    bool ok = false;
    const QString format = QInputDialog::getItem(
        this, tr("Save Quantized Model"),
        tr("Format for %1 (gptq, awq and compressed-tensors load in vLLM / transformers; gguf in "
           "llama.cpp):")
            .arg(QString::fromStdString(recipe->name)),
        formats,
        std::max(
            0, int(formats.indexOf(settings.value("export/checkpointFormat", "gptq").toString()))),
        false, &ok);
    if (!ok) return;
    const QString parent = QFileDialog::getExistingDirectory(
        this, tr("Folder to Save Into"), settings.value("dialogs/checkpointDir").toString());
    if (parent.isEmpty()) return;
    settings.setValue("export/checkpointFormat", format);
    settings.setValue("dialogs/checkpointDir", parent);
    const QString out = QDir(parent).filePath(QString::fromStdString(recipe->name) + "-" + format);
    if (QFileInfo::exists(out)) {
        showError(tr("Save Quantized Model"),
                  tr("%1 already exists; choose another folder.").arg(out));
        return;
    }
    m_controller->exportCheckpoint(*recipe, format, out, /*force=*/false);
    showStatus(tr("Queued saving %1 to %2 (see the Jobs panel).").arg(format, out));
}

void MainWindow::importCheckpoint(bool ggufFile)
{
    QSettings settings;
    const QString start = settings.value("dialogs/importDir").toString();
    const QString source = ggufFile ? QFileDialog::getOpenFileName(this, tr("Import GGUF File"),
                                                                   start, tr("GGUF files (*.gguf)"))
                                    : QFileDialog::getExistingDirectory(
                                          this, tr("Import Quantized Checkpoint"), start);
    if (source.isEmpty()) return;
    settings.setValue("dialogs/importDir", QFileInfo(source).absolutePath());
    // The float checkpoint goes beside the autosaved sessions, named after the source.
    const QString out =
        QDir(SessionController::autosaveDirectory() + "/../imports")
            .absoluteFilePath(QFileInfo(source).completeBaseName() + "-dequantized");
    m_controller->importCheckpoint(source, QDir::cleanPath(out));
    showStatus(tr("Queued importing %1 (see the Jobs panel).").arg(source));
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
