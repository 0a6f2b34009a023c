// The QuantScope main window, the composition root of the workbench:
//   left dock    the model tree with per-layer badges (kurtosis, outliers, error)
//   centre       a start page until a model or session is open, then tabs: the layer
//                inspector, the checkpoint's raw weights, the kurtosis map, the error across
//                depth, the Pareto frontier and the side-by-side comparison
//   right dock   the recipe builder        bottom dock   experiments and the job queue
// Every view follows one SessionModel (selection included); long work goes through the
// JobQueue (one worker thread), so the window never waits on a computation.
#pragma once

#include <optional>

#include <QMainWindow>
#include <QString>

#include "core/model/model_info.h"

class QAction;
class QActionGroup;
class QLabel;
class QMenu;
class QMimeData;
class QProgressBar;
class QStackedWidget;
class QTabWidget;

namespace qs {
struct ExperimentRecord;
struct LinearRecord;
struct Recipe;
struct SessionData;
struct WeightStats;
}  // namespace qs

namespace qs::gui {

class CompareView;
class DepthErrorView;
class ExperimentList;
class FigureView;
class JobQueue;
class JobQueueView;
class KurtosisMapView;
class LayerInspector;
class ModelTree;
class ParetoView;
class RecentFiles;
class RecipeBuilder;
class SessionController;
class SessionModel;
class StartPage;
class StatsJob;
class TensorInspector;

// The quantized experiment with the lowest perplexity on the first dataset (the first quantized
// one when none has a perplexity); empty when nothing is quantized.
QString bestExperimentId(const qs::SessionData& data);
// The quantized linear with the lowest output SQNR; null when none is quantized.
const qs::LinearRecord* largestErrorLinear(const qs::ExperimentRecord& experiment);

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    enum class View { Layer, Weights, KurtosisMap, DepthError, Pareto, Compare };

    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Shows the model's tree at once (config and headers only) and, when startSession is
    // true, queues a new autosaved session with its baseline statistics. On failure the
    // current model stays, the error goes to the status bar, modelOpenFailed is emitted and,
    // when dialogs are enabled, a non-blocking warning box is shown. Returns success.
    bool openModel(const QString& dir, bool startSession = true);
    // Queues reading the session; sessionOpened follows.
    void openSession(const QString& path);
    // Off for tests and the screenshot mode, where nobody would close a dialog.
    void setErrorDialogsEnabled(bool enabled) { m_errorDialogs = enabled; }
    void showView(View view);
    FigureView* currentFigure() const;

    bool isModelOpen() const { return m_model.has_value(); }
    QString modelDirectory() const;
    QString statusMessage() const;
    ModelTree* modelTree() const { return m_tree; }
    TensorInspector* inspector() const { return m_inspector; }
    LayerInspector* layerInspector() const { return m_layerInspector; }
    KurtosisMapView* kurtosisMap() const { return m_kurtosis; }
    DepthErrorView* depthError() const { return m_depth; }
    ParetoView* pareto() const { return m_pareto; }
    CompareView* compare() const { return m_compare; }
    ExperimentList* experimentList() const { return m_experiments; }
    RecipeBuilder* recipeBuilder() const { return m_builder; }
    JobQueue* jobs() const { return m_jobs; }
    SessionModel* session() const { return m_session; }
    SessionController* controller() const { return m_controller; }
    // Experiment > Compute Device: switches the device of the next jobs; false (and an error
    // dialog) for a device this build or machine lacks.
    bool selectDevice(const QString& device);
    QActionGroup* deviceActions() const { return m_deviceGroup; }
    // Experiment > Compute Precision: the dtype new sessions run the model in; false (and an
    // error dialog) for an unknown name.
    bool selectComputeDtype(const QString& dtype);
    QActionGroup* precisionActions() const { return m_precisionGroup; }
    StatsJob* statsJob() const { return m_job; }
    QProgressBar* progressBar() const { return m_progress; }

signals:
    void modelOpened(const QString& dir);
    void modelOpenFailed(const QString& message);
    void sessionOpened(const QString& path);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void createViews();
    void createDocks();
    void createMenus();
    void createDeviceMenu(QMenu* menu);
    void createPrecisionMenu(QMenu* menu);
    void createStatusBar();
    void connectSession();
    // With nothing selected: the best experiment and its largest-error linear
    // (main_window_selection.cpp).
    void selectDefaults();
    void restoreSettings();
    void chooseModelDirectory();
    void chooseSessionFile();
    void saveSessionAs();
    void exportCurrentFigure();
    void exportAllFigures();
    void saveQuantizedModel();
    void importCheckpoint(bool ggufFile);
    void resetSelectedLayer();
    void runRecipe(const qs::Recipe& recipe);
    void onTreeLinearSelected(const QString& weightName);
    void onStatsProgress(double fraction, const QString& stage);
    void onStatsReady(const qs::WeightStats& stats);
    void onStatsFailed(const QString& tensorName, const QString& message);
    void updateTitle();
    void showStatus(const QString& message);
    void showError(const QString& title, const QString& message);
    static QString droppedPath(const QMimeData* mime);

    std::optional<qs::ModelInfo> m_model;
    bool m_errorDialogs = true;
    SessionModel* m_session = nullptr;
    JobQueue* m_jobs = nullptr;
    SessionController* m_controller = nullptr;
    QActionGroup* m_deviceGroup = nullptr;
    QActionGroup* m_precisionGroup = nullptr;
    RecentFiles* m_recent = nullptr;
    QStackedWidget* m_pages = nullptr;
    StartPage* m_startPage = nullptr;
    QTabWidget* m_tabs = nullptr;
    ModelTree* m_tree = nullptr;
    TensorInspector* m_inspector = nullptr;
    LayerInspector* m_layerInspector = nullptr;
    KurtosisMapView* m_kurtosis = nullptr;
    DepthErrorView* m_depth = nullptr;
    ParetoView* m_pareto = nullptr;
    CompareView* m_compare = nullptr;
    ExperimentList* m_experiments = nullptr;
    RecipeBuilder* m_builder = nullptr;
    JobQueueView* m_jobView = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    StatsJob* m_job = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_progress = nullptr;
};

}  // namespace qs::gui
