// The QuantScope main window: a start page until a model is open, then the model tree (left)
// and the tensor inspector (right). Selecting a linear module starts a StatsJob; its progress
// and errors go to the status bar, its result to the inspector.
#pragma once

#include <optional>

#include <QMainWindow>
#include <QString>

#include "core/model/model_info.h"

class QLabel;
class QMimeData;
class QProgressBar;
class QSplitter;
class QStackedWidget;

namespace qs {
struct WeightStats;
}

namespace qs::gui {

class ModelTree;
class StartPage;
class StatsJob;
class TensorInspector;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Loads config and checkpoint headers of dir (fast: no tensor data). On failure the
    // current model stays, the error goes to the status bar, modelOpenFailed is emitted and,
    // when dialogs are enabled, a non-blocking warning box is shown. Returns success.
    bool openModel(const QString& dir);
    // Off for tests and the screenshot mode, where nobody would close a dialog.
    void setErrorDialogsEnabled(bool enabled) { m_errorDialogs = enabled; }

    bool isModelOpen() const { return m_model.has_value(); }
    QString modelDirectory() const;
    QString statusMessage() const;
    ModelTree* modelTree() const { return m_tree; }
    TensorInspector* inspector() const { return m_inspector; }
    StatsJob* statsJob() const { return m_job; }
    QProgressBar* progressBar() const { return m_progress; }

signals:
    void modelOpened(const QString& dir);
    void modelOpenFailed(const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createMenus();
    void createStatusBar();
    void chooseModelDirectory();
    void onLinearSelected(const QString& weightName);
    void onStatsProgress(double fraction, const QString& stage);
    void onStatsReady(const qs::WeightStats& stats);
    void onStatsFailed(const QString& tensorName, const QString& message);
    void showStatus(const QString& message);
    static QString droppedDirectory(const QMimeData* mime);

    std::optional<qs::ModelInfo> m_model;
    bool m_errorDialogs = true;
    QStackedWidget* m_pages = nullptr;
    StartPage* m_startPage = nullptr;
    QSplitter* m_splitter = nullptr;
    ModelTree* m_tree = nullptr;
    TensorInspector* m_inspector = nullptr;
    StatsJob* m_job = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_progress = nullptr;
};

}  // namespace qs::gui
