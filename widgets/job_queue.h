// A serial queue of long jobs (baseline statistics, experiments) run on ONE worker thread: the
// engine (qs::Workbench) is single-threaded, so jobs run one after another in the order they
// were queued, and the user can queue several while one runs.
//
// A job is a title and a function run on the worker with a Feedback token; its QVariant result
// (a value type: qs::ExperimentRecord, std::vector<qs::LinearRecord>, ...) comes back to the
// GUI thread through queued signals and the job's optional callbacks. Progress is read from
// the token's listener on the worker and posted to the GUI thread coalesced: at most one
// update per 50 ms (20 per second) however often the algorithm reports, and the latest value
// always arrives. The bar only moves forward (the largest fraction seen). Estimated time
// left = elapsed * (1 - f) / f once f passes 2 %.
//
// cancel(id) removes a queued job, or cancels a running one's token (it then ends as
// cancelled at the algorithm's next check, or as finished if it completed first). The
// destructor cancels everything and joins the worker: callbacks never run after it.
// The public functions belong to the GUI thread (the queue's thread); only `work` runs on the
// worker, and it must not touch widgets or this queue.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <QElapsedTimer>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QVariant>

#include "core/analysis/experiment_record.h"

namespace qs {
class Feedback;
}

Q_DECLARE_METATYPE(qs::ExperimentRecord)
Q_DECLARE_METATYPE(std::vector<qs::LinearRecord>)

namespace qs::gui {

enum class JobState { Queued, Running, Done, Failed, Cancelled };

QString jobStateName(JobState state);

// What a view shows about one job (a snapshot; jobs() copies them).
struct JobInfo {
    quint64 id = 0;
    QString title;
    JobState state = JobState::Queued;
    double fraction = 0;  // 0..1, never decreasing while running
    QString stage;
    QString message;          // failure message
    qint64 elapsedMs = 0;     // running: so far; finished: total
    qint64 remainingMs = -1;  // estimate; -1 while unknown (fraction <= 2 %)
    bool cancelRequested = false;
    bool finished() const
    {
        return state == JobState::Done || state == JobState::Failed || state == JobState::Cancelled;
    }
};

class JobQueue : public QObject {
    Q_OBJECT

public:
    using Work = std::function<QVariant(qs::Feedback&)>;
    using OnFinished = std::function<void(const QVariant& result)>;
    using OnFailed = std::function<void(const QString& message)>;

    explicit JobQueue(QObject* parent = nullptr);
    ~JobQueue() override;

    // Queues `work`; returns the job id (ids increase from 1). The callbacks run on the GUI
    // thread right after jobFinished / jobFailed.
    quint64 enqueue(const QString& title, Work work, OnFinished onFinished = {},
                    OnFailed onFailed = {});
    void cancel(quint64 id);
    void cancelAll();
    // Forgets finished jobs (done, failed, cancelled).
    void clearFinished();

    QList<JobInfo> jobs() const;    // in queue order
    JobInfo job(quint64 id) const;  // id 0 when unknown
    bool isBusy() const;            // a job is queued or running
    // How often progress reaches the GUI thread at most (default 50 ms).
    void setProgressInterval(int ms) { m_progressIntervalMs = ms; }

signals:
    void jobAdded(quint64 id);
    void jobStarted(quint64 id);
    void jobProgress(quint64 id, double fraction, const QString& stage);
    void jobFinished(quint64 id, const QVariant& result);
    void jobFailed(quint64 id, const QString& message);
    void jobCancelled(quint64 id);
    void jobsChanged();  // any job added, removed or changed state
    void idle();         // the last queued job ended

private:
    struct Progress;  // latest report of the running job, shared with the worker
    struct Pending {
        quint64 id;
        Work work;
        std::shared_ptr<qs::Feedback> feedback;
        std::shared_ptr<Progress> progress;
    };
    struct Entry {
        JobInfo info;
        std::shared_ptr<qs::Feedback> feedback;
        std::shared_ptr<Progress> progress;
        OnFinished onFinished;
        OnFailed onFailed;
        QElapsedTimer clock;
    };

    void workerLoop();
    void runOne(Pending pending);
    // GUI thread: outcomes posted by the worker.
    void onStarted(quint64 id);
    void flushProgress(quint64 id);
    void onFinished(quint64 id, const QVariant& result);
    void onFailed(quint64 id, const QString& message);
    void onCancelled(quint64 id);
    Entry* find(quint64 id);
    const Entry* find(quint64 id) const;
    void finish(Entry& entry, JobState state);

    std::vector<Entry> m_entries;  // GUI thread only
    quint64 m_nextId = 1;
    int m_progressIntervalMs = 50;

    // Shared with the worker.
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Pending> m_pending;
    bool m_stopping = false;
    std::thread m_worker;
};

}  // namespace qs::gui
