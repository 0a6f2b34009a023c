#include "widgets/main_window.h"

#include <exception>

#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>

#include "widgets/compare_view.h"
#include "widgets/depth_error_view.h"
#include "widgets/experiment_list.h"
#include "widgets/job_queue.h"
#include "widgets/job_queue_view.h"
#include "widgets/kurtosis_map_view.h"
#include "widgets/layer_inspector.h"
#include "widgets/model_tree.h"
#include "widgets/number_format.h"
#include "widgets/pareto_view.h"
#include "widgets/recent_files.h"
#include "widgets/recipe_builder.h"
#include "widgets/session_controller.h"
#include "widgets/session_model.h"
#include "widgets/user_guide_dialog.h"

#include "core/util/device_list.h"
#include "widgets/start_page.h"
#include "widgets/stats_job.h"
#include "widgets/tensor_inspector.h"

namespace qs::gui {
namespace {

// Checkpoints often sit in folders named after their format ("hf", "model"); the parent
// folder is then the name a user recognises.
QString modelDisplayName(const QString& dir)
{
    const QDir d(QDir::cleanPath(dir));
    const QString name = d.dirName();
    static const QStringList generic = {"hf", "model", "models", "checkpoint", "weights", "."};
    if (!generic.contains(name.toLower())) return name;
    QDir parent(d);
    return parent.cdUp() ? parent.dirName() + QLatin1Char('/') + name : name;
}

QDockWidget* makeDock(const QString& title, const QString& objectName, QWidget* content,
                      QWidget* parent)
{
    auto* dock = new QDockWidget(title, parent);
    dock->setObjectName(objectName);  // saveState() needs it
    dock->setWidget(content);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    return dock;
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("QuantScope"));
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    m_session = new SessionModel(this);
    m_jobs = new JobQueue(this);
    m_controller = new SessionController(m_session, m_jobs, this);
    m_recent = new RecentFiles(this);
    m_job = new StatsJob(this);
    createViews();
    createDocks();
    createMenus();
    createStatusBar();
    connectSession();
    resize(1500, 950);
    restoreSettings();
}

MainWindow::~MainWindow() = default;

void MainWindow::createViews()
{
    m_startPage = new StartPage(this);
    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_layerInspector = new LayerInspector(m_session, this);
    m_inspector = new TensorInspector(this);
    m_kurtosis = new KurtosisMapView(m_session, this);
    m_depth = new DepthErrorView(m_session, this);
    m_pareto = new ParetoView(m_session, this);
    m_compare = new CompareView(m_session, this);
    m_tabs->addTab(m_layerInspector, tr("Layer"));
    m_tabs->addTab(m_inspector, tr("Weights"));
    m_tabs->addTab(m_kurtosis, tr("Kurtosis map"));
    m_tabs->addTab(m_depth, tr("Error across depth"));
    m_tabs->addTab(m_pareto, tr("Pareto frontier"));
    m_tabs->addTab(m_compare, tr("Compare"));
    m_tabs->setTabToolTip(0, tr("Histograms, per-channel absmax and GPTQ error of the selected "
                                "linear, before and after each transform"));
    m_tabs->setTabToolTip(1, tr("Statistics of the selected weight as stored in the checkpoint "
                                "(available at once, before the baseline is computed)"));
    m_pages = new QStackedWidget(this);
    m_pages->addWidget(m_startPage);
    m_pages->addWidget(m_tabs);
    setCentralWidget(m_pages);

    m_tree = new ModelTree(this);
    m_tree->setSessionModel(m_session);
    m_experiments = new ExperimentList(m_session, this);
    m_builder = new RecipeBuilder(this);
    m_jobView = new JobQueueView(m_jobs, this);
}

void MainWindow::createDocks()
{
    auto* treeDock = makeDock(tr("Model"), QStringLiteral("modelDock"), m_tree, this);
    auto* builderDock = makeDock(tr("Recipe"), QStringLiteral("recipeDock"), m_builder, this);
    auto* experimentsDock =
        makeDock(tr("Experiments"), QStringLiteral("experimentsDock"), m_experiments, this);
    auto* jobsDock = makeDock(tr("Jobs"), QStringLiteral("jobsDock"), m_jobView, this);
    // The recipe builder is a tall form: it takes the right edge down to the status bar, so
    // its formats and settings show without scrolling at the default window size.
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    addDockWidget(Qt::LeftDockWidgetArea, treeDock);
    addDockWidget(Qt::RightDockWidgetArea, builderDock);
    addDockWidget(Qt::BottomDockWidgetArea, experimentsDock);
    addDockWidget(Qt::BottomDockWidgetArea, jobsDock);
    splitDockWidget(experimentsDock, jobsDock, Qt::Horizontal);
    resizeDocks({treeDock, builderDock}, {430, 360}, Qt::Horizontal);
    resizeDocks({experimentsDock}, {220}, Qt::Vertical);
    // The experiment table's columns need the width; the job list wraps its lines.
    resizeDocks({experimentsDock, jobsDock}, {850, 250}, Qt::Horizontal);
    m_viewMenu = new QMenu(tr("&View"), this);
    for (auto* dock : {treeDock, builderDock, experimentsDock, jobsDock})
        m_viewMenu->addAction(dock->toggleViewAction());
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open Model\u2026"), this, &MainWindow::chooseModelDirectory)
        ->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open &Session\u2026"), this, &MainWindow::chooseSessionFile)
        ->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, [this] { m_recent->fillMenu(m_recentMenu); });
    connect(m_recent, &RecentFiles::sessionChosen, this, &MainWindow::openSession);
    connect(m_recent, &RecentFiles::modelChosen, this,
            [this](const QString& dir) { openModel(dir); });
    file->addAction(tr("Save Session &As\u2026"), this, &MainWindow::saveSessionAs)
        ->setShortcut(QKeySequence::SaveAs);
    file->addSeparator();
    file->addAction(tr("Save &Quantized Model\u2026"), this, &MainWindow::saveQuantizedModel);
    file->addAction(tr("&Import Quantized Checkpoint Folder\u2026"), this,
                    [this] { importCheckpoint(false); });
    file->addAction(tr("Import &GGUF File\u2026"), this, [this] { importCheckpoint(true); });
    file->addSeparator();
    file->addAction(tr("&Export Figure\u2026"), this, &MainWindow::exportCurrentFigure)
        ->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    file->addAction(tr("Export &All Figures\u2026"), this, &MainWindow::exportAllFigures);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    QMenu* experiment = menuBar()->addMenu(tr("E&xperiment"));
    experiment->addAction(tr("&Reset Selected Layer to Full Precision"), this,
                          &MainWindow::resetSelectedLayer);
    experiment->addAction(tr("&Compare Selected Experiments"), this,
                          [this] { showView(View::Compare); });
    experiment->addSeparator();
    experiment->addAction(tr("Cancel &All Jobs"), m_jobs, &JobQueue::cancelAll);
    experiment->addSeparator();
    createDeviceMenu(experiment->addMenu(tr("Compute &Device")));
    createPrecisionMenu(experiment->addMenu(tr("Compute &Precision")));

    menuBar()->addMenu(m_viewMenu);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&User Guide"), QKeySequence::HelpContents, this, [this] {
        auto* guide = new UserGuideDialog(this);
        guide->setAttribute(Qt::WA_DeleteOnClose);
        guide->show();
    });
    help->addAction(tr("&About QuantScope"), this, [this] {
        QMessageBox::about(this, tr("About QuantScope"),
                           tr("<b>QuantScope %1</b><p>A workbench for post-training quantization "
                              "of large language models: RTN, GPTQ, AWQ and SmoothQuant to INT, "
                              "MX and FP8 formats, and the statistics that explain the results.")
                               .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::createDeviceMenu(QMenu* menu)
{
    // The devices this build and machine have; the choice is remembered across runs and falls
    // back to the CPU when the saved GPU is gone.
    m_deviceGroup = new QActionGroup(menu);
    QString saved =
        QSettings().value(QStringLiteral("compute/device"), QStringLiteral("cpu")).toString();
    if (!m_controller->setDevice(saved)) saved = QStringLiteral("cpu");
    for (const auto& name : qs::available_devices()) {
        const QString device = QString::fromStdString(name);
        QAction* action = menu->addAction(device);
        action->setCheckable(true);
        action->setChecked(device == saved);
        m_deviceGroup->addAction(action);
        connect(action, &QAction::triggered, this, [this, device] { selectDevice(device); });
    }
    if (m_deviceGroup->actions().size() == 1)
        menu->addAction(tr("(no CUDA GPU in this build or machine)"))->setEnabled(false);
}

bool MainWindow::selectDevice(const QString& device)
{
    QString error;
    if (!m_controller->setDevice(device, &error)) {
        showError(tr("Compute Device"), error);
        return false;
    }
    for (QAction* action : m_deviceGroup->actions())
        action->setChecked(action->text() == device);
    QSettings().setValue(QStringLiteral("compute/device"), device);
    showStatus(tr("The next jobs run on %1 (the model is opened there again).").arg(device));
    return true;
}

void MainWindow::createPrecisionMenu(QMenu* menu)
{
    // Remembered across runs; applies to sessions created afterwards (see selectComputeDtype).
    m_precisionGroup = new QActionGroup(menu);
    QString saved =
        QSettings().value(QStringLiteral("compute/dtype"), QStringLiteral("fp32")).toString();
    if (!m_controller->setComputeDtype(saved)) saved = QStringLiteral("fp32");
    const QStringList hints = {
        tr("float32 throughout"),
        tr("bfloat16 weights and activations; norms, softmax and loss in float32"),
        tr("float16 weights and activations; norms, softmax and loss in float32")};
    const QStringList names = SessionController::computeDtypes();
    for (int i = 0; i < names.size(); ++i) {
        const QString dtype = names[i];
        QAction* action = menu->addAction(QStringLiteral("%1 (%2)").arg(dtype, hints[i]));
        action->setData(dtype);
        action->setCheckable(true);
        action->setChecked(dtype == saved);
        m_precisionGroup->addAction(action);
        connect(action, &QAction::triggered, this, [this, dtype] { selectComputeDtype(dtype); });
    }
    menu->addSeparator();
    menu->addAction(tr("(quantization math and saved weights stay float32)"))->setEnabled(false);
}

bool MainWindow::selectComputeDtype(const QString& dtype)
{
    QString error;
    if (!m_controller->setComputeDtype(dtype, &error)) {
        showError(tr("Compute Precision"), error);
        return false;
    }
    for (QAction* action : m_precisionGroup->actions())
        action->setChecked(action->data().toString() == dtype);
    QSettings().setValue(QStringLiteral("compute/dtype"), dtype);
    const QString current = m_controller->sessionComputeDtype();
    if (!current.isEmpty() && current != dtype)
        showStatus(tr("Models opened from now on run in %1; this session keeps %2, so that its "
                      "experiments stay comparable.")
                       .arg(dtype, current));
    else
        showStatus(tr("Models opened from now on run in %1.").arg(dtype));
    return true;
}

void MainWindow::createStatusBar()
{
    m_status = new QLabel(this);
    m_status->setTextFormat(Qt::PlainText);
    // A long model path must not widen the window; the label elides by clipping instead.
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 100);
    m_progress->setMaximumWidth(220);
    m_progress->setVisible(false);
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_progress);
    showStatus(tr("Ready. Open a model folder or a session with the File menu, or drop it here."));
}

void MainWindow::connectSession()
{
    connect(m_startPage, &StartPage::openRequested, this, &MainWindow::chooseModelDirectory);
    connect(m_tree, &ModelTree::linearSelected, this, &MainWindow::onTreeLinearSelected);
    connect(m_job, &StatsJob::progressChanged, this, &MainWindow::onStatsProgress);
    connect(m_job, &StatsJob::statsReady, this, &MainWindow::onStatsReady);
    connect(m_job, &StatsJob::failed, this, &MainWindow::onStatsFailed);
    connect(m_builder, &RecipeBuilder::runRequested, this, &MainWindow::runRecipe);
    connect(m_experiments, &ExperimentList::recipeRequested, m_builder,
            [this](const QString& yaml) { m_builder->loadYaml(yaml); });
    connect(m_session, &SessionModel::linearSelected, m_builder,
            [this](int layer, const QString&) { m_builder->setSelectedLayer(layer); });
    connect(m_session, &SessionModel::dataReset, this, [this] {
        // A new session knows its layers only after the baseline; the checkpoint knows them now.
        m_builder->setNumLayers(m_session->numLayers() > 0 ? m_session->numLayers()
                                : m_model                  ? int(m_model->layers.size())
                                                           : 0);
        // New recipes calibrate as the session does, so the shared calibration cache serves them.
        if (m_session->data().header.calibration.samples > 0)
            m_builder->setCalibration(m_controller->recipeDefaults().calibration);
        updateTitle();
        selectDefaults();
    });
    connect(m_session, &SessionModel::experimentsChanged, this, &MainWindow::selectDefaults);
    connect(m_controller, &SessionController::message, this, &MainWindow::showStatus);
    connect(m_controller, &SessionController::failed, this,
            [this](const QString& message) { showError(tr("QuantScope"), message); });
    connect(m_controller, &SessionController::modelChanged, this, [this](const QString& dir) {
        if (!dir.isEmpty() && dir != modelDirectory()) openModel(dir, /*startSession=*/false);
    });
    connect(m_controller, &SessionController::sessionOpened, this, [this](const QString& path) {
        if (!path.startsWith(SessionController::autosaveDirectory()))
            m_recent->add(RecentFiles::Kind::Session, path);
        m_pages->setCurrentWidget(m_tabs);
        updateTitle();
        emit sessionOpened(path);
    });
    connect(m_controller, &SessionController::checkpointImported, this, [this](const QString& dir) {
        showStatus(tr("Imported and dequantized into %1").arg(dir));
        openModel(dir);
    });
    connect(m_controller, &SessionController::experimentAdded, this, [this](const QString& id) {
        const auto* e = m_session->experiment(id);
        showStatus(tr("Experiment %1 (%2) finished and saved.")
                       .arg(id, e ? QString::fromStdString(e->name) : QString()));
    });
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    if (settings.contains("window/geometry"))
        restoreGeometry(settings.value("window/geometry").toByteArray());
    if (settings.contains("window/state"))
        restoreState(settings.value("window/state").toByteArray());
    m_tabs->setCurrentIndex(settings.value("window/tab", 0).toInt());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    settings.setValue("window/tab", m_tabs->currentIndex());
    m_jobs->cancelAll();
    QMainWindow::closeEvent(event);
}

bool MainWindow::openModel(const QString& dir, bool startSession)
{
    qs::ModelInfo info;
    try {
        info = qs::ModelInfo::load(QDir::cleanPath(dir).toStdString());
    } catch (const std::exception& e) {
        const QString message = tr("Cannot open model: %1").arg(QString::fromStdString(e.what()));
        showError(tr("Open Model"), message);
        emit modelOpenFailed(message);
        return false;
    }
    m_job->cancel();
    m_model = std::move(info);
    const QString name = modelDisplayName(dir);
    m_tree->setModel(*m_model, name);
    m_builder->setNumLayers(int(m_model->layers.size()));  // the range spans the model
    m_inspector->clear();
    m_pages->setCurrentWidget(m_tabs);
    m_recent->add(RecentFiles::Kind::Model, QDir::cleanPath(dir));
    if (startSession) m_controller->newSessionForModel(dir);
    updateTitle();
    showStatus(tr("Opened %1: %2 layers, %3 parameters.%4")
                   .arg(QString::fromStdString(m_model->directory))
                   .arg(m_model->layers.size())
                   .arg(formatCount(m_model->total_parameters))
                   .arg(startSession ? tr(" Computing the baseline statistics\u2026") : QString()));
    emit modelOpened(dir);
    return true;
}

void MainWindow::openSession(const QString& path)
{
    m_controller->openSession(path);
    showStatus(tr("Opening %1\u2026").arg(path));
}

QString MainWindow::modelDirectory() const
{
    return m_model ? QString::fromStdString(m_model->directory) : QString();
}

QString MainWindow::statusMessage() const
{
    return m_status->text();
}

void MainWindow::showView(View view)
{
    m_tabs->setCurrentIndex(static_cast<int>(view));
}

FigureView* MainWindow::currentFigure() const
{
    QWidget* page = m_tabs->currentWidget();
    if (page == m_layerInspector) {
        const auto views = m_layerInspector->figureViews();
        return views.isEmpty() ? nullptr : views.front();
    }
    return dynamic_cast<FigureView*>(page);
}

void MainWindow::updateTitle()
{
    QString title = QStringLiteral("QuantScope");
    if (m_model) title = modelDisplayName(modelDirectory()) + QStringLiteral(" \u2014 ") + title;
    const QString path = m_session->path();
    if (!path.isEmpty()) {
        const bool autosaved = path.startsWith(SessionController::autosaveDirectory());
        title = (autosaved ? tr("untitled session (autosaved)") : QFileInfo(path).fileName()) +
                QStringLiteral(" \u00b7 ") + title;
        // A session not in float32 says so: its perplexities are not comparable with others'.
        const QString dtype = m_controller->sessionComputeDtype();
        if (!dtype.isEmpty() && dtype != QLatin1String("fp32"))
            title = dtype + QStringLiteral(" \u00b7 ") + title;
    }
    setWindowTitle(title);
}

void MainWindow::showStatus(const QString& message)
{
    m_status->setText(message);
}

void MainWindow::showError(const QString& title, const QString& message)
{
    showStatus(tr("Error: %1").arg(message));
    if (!m_errorDialogs) return;
    // open(), not exec(): no nested event loop, the window keeps running behind it.
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::onTreeLinearSelected(const QString& weightName)
{
    if (!m_model) return;
    QString shape, dtype;
    for (const auto& layer : m_model->layers) {
        for (const auto& linear : layer.linears) {
            if (QString::fromStdString(linear.weight_name) != weightName) continue;
            shape = formatShape(linear.out_features, linear.in_features);
            dtype = QString::fromStdString(linear.dtype);
        }
    }
    m_inspector->showPending(weightName, shape, dtype);
    m_progress->setValue(0);
    m_progress->setVisible(true);
    m_job->start(modelDirectory(), weightName);
}

void MainWindow::onStatsProgress(double fraction, const QString& stage)
{
    m_progress->setValue(static_cast<int>(fraction * 100.0 + 0.5));
    showStatus(tr("%1: %2").arg(m_job->tensorName(), stage));
}

void MainWindow::onStatsReady(const qs::WeightStats& stats)
{
    m_progress->setVisible(false);
    m_inspector->showStats(stats);
    showStatus(tr("%1: statistics ready").arg(QString::fromStdString(stats.tensor_name)));
}

void MainWindow::onStatsFailed(const QString& tensorName, const QString& message)
{
    m_progress->setVisible(false);
    m_inspector->showError(tensorName, message);
    showStatus(tr("Error: %1").arg(message));
}

}  // namespace qs::gui
