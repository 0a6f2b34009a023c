// A compact list of the JobQueue's jobs for a dock: per job its title, state, a progress bar
// reading "stage · 42 % · 1:05 left" and a cancel button. Finished jobs stay listed, greyed
// (a failed one keeps its message readable), until "Clear finished". Elapsed and remaining
// times refresh once a second while a job runs; progress itself arrives from the queue
// already coalesced (at most 20 updates a second).
#pragma once

#include <QHash>
#include <QWidget>

class QLabel;
class QPushButton;
class QTimer;
class QVBoxLayout;

namespace qs::gui {

class JobQueue;
class JobRow;

class JobQueueView : public QWidget {
    Q_OBJECT

public:
    explicit JobQueueView(JobQueue* queue, QWidget* parent = nullptr);
    ~JobQueueView() override;

    QSize sizeHint() const override;
    // For tests: the progress bar text of an active job, the outcome line of a finished one
    // ("" when the job is not listed).
    QString progressText(quint64 id) const;
    int rowCount() const { return m_rows.size(); }

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void sync();  // rows follow the queue's jobs (added, changed, cleared)
    void refreshTimes();

    JobQueue* m_queue;
    QHash<quint64, JobRow*> m_rows;
    QVBoxLayout* m_list = nullptr;
    QLabel* m_summary = nullptr;
    QString m_summaryText;  // elided into m_summary
    QLabel* m_empty = nullptr;
    QPushButton* m_cancelAll = nullptr;
    QPushButton* m_clear = nullptr;
    QTimer* m_clock = nullptr;
};

}  // namespace qs::gui
