#include "widgets/main_window.h"

#include <exception>

#include <QApplication>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QUrl>

#include "widgets/model_tree.h"
#include "widgets/number_format.h"
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

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("QuantScope"));
    setAcceptDrops(true);

    m_startPage = new StartPage(this);
    m_tree = new ModelTree(this);
    m_inspector = new TensorInspector(this);
    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->addWidget(m_tree);
    m_splitter->addWidget(m_inspector);
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({420, 980});
    m_splitter->setChildrenCollapsible(false);

    m_pages = new QStackedWidget(this);
    m_pages->addWidget(m_startPage);
    m_pages->addWidget(m_splitter);
    setCentralWidget(m_pages);

    m_job = new StatsJob(this);
    connect(m_startPage, &StartPage::openRequested, this, &MainWindow::chooseModelDirectory);
    connect(m_tree, &ModelTree::linearSelected, this, &MainWindow::onLinearSelected);
    connect(m_job, &StatsJob::progressChanged, this, &MainWindow::onStatsProgress);
    connect(m_job, &StatsJob::statsReady, this, &MainWindow::onStatsReady);
    connect(m_job, &StatsJob::failed, this, &MainWindow::onStatsFailed);

    createMenus();
    createStatusBar();
    resize(1400, 900);
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open =
        file->addAction(tr("&Open Model\u2026"), this, &MainWindow::chooseModelDirectory);
    open->setShortcut(QKeySequence::Open);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);
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
    showStatus(tr("Ready. Open a model folder with File \u25B8 Open Model\u2026 or drop it here."));
}

bool MainWindow::openModel(const QString& dir)
{
    qs::ModelInfo info;
    try {
        info = qs::ModelInfo::load(QDir::cleanPath(dir).toStdString());
    } catch (const std::exception& e) {
        const QString message = tr("Cannot open model: %1").arg(QString::fromStdString(e.what()));
        showStatus(message);
        emit modelOpenFailed(message);
        if (m_errorDialogs) {
            // open(), not exec(): no nested event loop, the window keeps running behind it.
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Open Model"), message,
                                        QMessageBox::Ok, this);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        return false;
    }

    m_job->cancel();
    m_model = std::move(info);
    const QString name = modelDisplayName(dir);
    m_tree->setModel(*m_model, name);
    m_inspector->clear();
    m_pages->setCurrentWidget(m_splitter);
    setWindowTitle(tr("%1 \u2014 QuantScope").arg(name));
    showStatus(tr("Opened %1: %2 layers, %3 parameters. Select a linear module to inspect it.")
                   .arg(QString::fromStdString(m_model->directory))
                   .arg(m_model->layers.size())
                   .arg(formatCount(m_model->total_parameters)));
    emit modelOpened(dir);
    return true;
}

QString MainWindow::modelDirectory() const
{
    return m_model ? QString::fromStdString(m_model->directory) : QString();
}

QString MainWindow::statusMessage() const
{
    return m_status->text();
}

void MainWindow::chooseModelDirectory()
{
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Open Model Folder"), modelDirectory(), QFileDialog::ShowDirsOnly);
    if (!dir.isEmpty()) openModel(dir);
}

void MainWindow::onLinearSelected(const QString& weightName)
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
    showStatus(tr("Computing statistics of %1\u2026").arg(weightName));
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

void MainWindow::showStatus(const QString& message)
{
    m_status->setText(message);
}

QString MainWindow::droppedDirectory(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls() || mime->urls().isEmpty()) return {};
    const QUrl url = mime->urls().front();
    if (!url.isLocalFile()) return {};
    const QFileInfo info(url.toLocalFile());
    // A dropped config.json or safetensors file stands for the folder it lives in.
    if (info.isDir()) return info.absoluteFilePath();
    if (info.isFile()) return info.absolutePath();
    return {};
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (!droppedDirectory(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QString dir = droppedDirectory(event->mimeData());
    if (dir.isEmpty()) return;
    event->acceptProposedAction();
    openModel(dir);
}

}  // namespace qs::gui
