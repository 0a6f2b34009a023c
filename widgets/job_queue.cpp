#include "widgets/job_queue.h"

#include <algorithm>
#include <exception>

#include <QMetaObject>
#include <QTimer>

#include "core/util/feedback.h"

namespace qs::gui {

namespace {
constexpr double kEstimateFrom = 0.02;  // below this the estimate is mostly start-up noise
}

// The running job's latest report. The worker writes it at every Feedback report; the GUI
// thread reads it when a flush fires. `flushPending` makes the worker post at most one
// wake-up per flush, so a chatty algorithm cannot flood the GUI thread's event queue.
struct JobQueue::Progress {
    std::mutex mutex;
    double fraction = 0;
    std::string stage;
    bool flushPending = false;
    QElapsedTimer lastFlush;  // GUI thread only
};

QString jobStateName(JobState state)
{
    switch (state) {
        case JobState::Queued:
            return QObject::tr("queued");
        case JobState::Running:
            return QObject::tr("running");
        case JobState::Done:
            return QObject::tr("done");
        case JobState::Failed:
            return QObject::tr("failed");
        case JobState::Cancelled:
            return QObject::tr("cancelled");
    }
    return {};
}

JobQueue::JobQueue(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<qs::ExperimentRecord>();
    qRegisterMetaType<std::vector<qs::LinearRecord>>();
    m_worker = std::thread([this] { workerLoop(); });
}

JobQueue::~JobQueue()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_pending.clear();
    }
    for (auto& entry : m_entries)
        if (entry.feedback) entry.feedback->cancel();
    m_wake.notify_all();
    m_worker.join();
    // Whatever the worker posted is dropped with this object (~QObject removes posted events).
}

quint64 JobQueue::enqueue(const QString& title, Work work, OnFinished onFinished, OnFailed onFailed)
{
    const quint64 id = m_nextId++;
    Entry entry;
    entry.info.id = id;
    entry.info.title = title;
    entry.feedback = std::make_shared<qs::Feedback>();
    entry.progress = std::make_shared<Progress>();
    entry.onFinished = std::move(onFinished);
    entry.onFailed = std::move(onFailed);
    // Runs on the worker at every report: store, and wake the GUI thread once per flush.
    entry.feedback->set_listener(
        [this, id, progress = entry.progress](double fraction, const std::string& stage) {
            bool post = false;
            {
                std::lock_guard lock(progress->mutex);
                progress->fraction = fraction;
                progress->stage = stage;
                post = !progress->flushPending;
                progress->flushPending = true;
            }
            if (!post) return;
            QMetaObject::invokeMethod(
                this,
                [this, id, progress] {
                    // Space flushes by the interval: the first one right away.
                    const qint64 since =
                        progress->lastFlush.isValid() ? progress->lastFlush.elapsed() : 1 << 30;
                    const int delay = int(std::max<qint64>(0, m_progressIntervalMs - since));
                    QTimer::singleShot(delay, this, [this, id] { flushProgress(id); });
                },
                Qt::QueuedConnection);
        });
    Pending pending{id, std::move(work), entry.feedback, entry.progress};
    m_entries.push_back(std::move(entry));
    {
        std::lock_guard lock(m_mutex);
        m_pending.push_back(std::move(pending));
    }
    m_wake.notify_one();
    emit jobAdded(id);
    emit jobsChanged();
    return id;
}

void JobQueue::cancel(quint64 id)
{
    Entry* entry = find(id);
    if (!entry || entry->info.finished()) return;
    bool removed = false;
    {
        std::lock_guard lock(m_mutex);
        auto it = std::find_if(m_pending.begin(), m_pending.end(),
                               [id](const Pending& p) { return p.id == id; });
        if (it != m_pending.end()) {
            m_pending.erase(it);
            removed = true;
        }
    }
    entry->feedback->cancel();
    if (removed) {
        finish(*entry, JobState::Cancelled);
        emit jobCancelled(id);
        emit jobsChanged();
        if (!isBusy()) emit idle();
        return;
    }
    // Taken by the worker (running, or about to start): it reports how the job ended.
    entry->info.cancelRequested = true;
    emit jobsChanged();
}

void JobQueue::cancelAll()
{
    // Queued jobs first, so none of them starts while the running one unwinds.
    std::vector<quint64> ids;
    for (const auto& entry : m_entries)
        if (!entry.info.finished()) ids.push_back(entry.info.id);
    std::reverse(ids.begin(), ids.end());
    for (quint64 id : ids)
        cancel(id);
}

void JobQueue::clearFinished()
{
    const auto before = m_entries.size();
    m_entries.erase(std::remove_if(m_entries.begin(), m_entries.end(),
                                   [](const Entry& e) { return e.info.finished(); }),
                    m_entries.end());
    if (m_entries.size() != before) emit jobsChanged();
}

QList<JobInfo> JobQueue::jobs() const
{
    QList<JobInfo> out;
    for (const auto& entry : m_entries) {
        JobInfo info = entry.info;
        if (info.state == JobState::Running) {
            info.elapsedMs = entry.clock.elapsed();
            if (info.fraction > kEstimateFrom)
                info.remainingMs = qint64(info.elapsedMs * (1.0 - info.fraction) / info.fraction);
        }
        out.append(info);
    }
    return out;
}

JobInfo JobQueue::job(quint64 id) const
{
    for (const auto& info : jobs())
        if (info.id == id) return info;
    return {};
}

bool JobQueue::isBusy() const
{
    return std::any_of(m_entries.begin(), m_entries.end(),
                       [](const Entry& e) { return !e.info.finished(); });
}

void JobQueue::workerLoop()
{
    for (;;) {
        Pending pending;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_pending.empty(); });
            if (m_stopping) return;
            pending = std::move(m_pending.front());
            m_pending.pop_front();
        }
        runOne(std::move(pending));
    }
}

void JobQueue::runOne(Pending pending)
{
    const quint64 id = pending.id;
    auto post = [this](auto&& call) {
        QMetaObject::invokeMethod(this, std::forward<decltype(call)>(call), Qt::QueuedConnection);
    };
    if (pending.feedback->is_cancelled()) {
        post([this, id] { onCancelled(id); });
        return;
    }
    post([this, id] { onStarted(id); });
    try {
        QVariant result = pending.work(*pending.feedback);
        post([this, id, result = std::move(result)] { onFinished(id, result); });
    } catch (const qs::CancelledError&) {
        post([this, id] { onCancelled(id); });
    } catch (const std::exception& e) {
        post([this, id, message = QString::fromUtf8(e.what())] { onFailed(id, message); });
    } catch (...) {
        post([this, id] { onFailed(id, tr("unknown error")); });
    }
}

void JobQueue::onStarted(quint64 id)
{
    Entry* entry = find(id);
    if (!entry || entry->info.finished()) return;
    entry->info.state = JobState::Running;
    entry->clock.start();
    emit jobStarted(id);
    emit jobsChanged();
}

void JobQueue::flushProgress(quint64 id)
{
    Entry* entry = find(id);
    if (!entry) return;
    double fraction;
    std::string stage;
    {
        std::lock_guard lock(entry->progress->mutex);
        fraction = entry->progress->fraction;
        stage = entry->progress->stage;
        entry->progress->flushPending = false;
    }
    entry->progress->lastFlush.start();
    if (entry->info.state != JobState::Running) return;
    entry->info.fraction = std::clamp(std::max(entry->info.fraction, fraction), 0.0, 1.0);
    entry->info.stage = QString::fromStdString(stage);
    emit jobProgress(id, entry->info.fraction, entry->info.stage);
}

void JobQueue::onFinished(quint64 id, const QVariant& result)
{
    Entry* entry = find(id);
    if (!entry) return;
    entry->info.fraction = 1.0;
    finish(*entry, JobState::Done);
    const OnFinished callback = entry->onFinished;  // the entry may go in a slot
    emit jobFinished(id, result);
    if (callback) callback(result);
    emit jobsChanged();
    if (!isBusy()) emit idle();
}

void JobQueue::onFailed(quint64 id, const QString& message)
{
    Entry* entry = find(id);
    if (!entry) return;
    entry->info.message = message;
    finish(*entry, JobState::Failed);
    const OnFailed callback = entry->onFailed;
    emit jobFailed(id, message);
    if (callback) callback(message);
    emit jobsChanged();
    if (!isBusy()) emit idle();
}

void JobQueue::onCancelled(quint64 id)
{
    Entry* entry = find(id);
    if (!entry || entry->info.finished()) return;
    finish(*entry, JobState::Cancelled);
    emit jobCancelled(id);
    emit jobsChanged();
    if (!isBusy()) emit idle();
}

void JobQueue::finish(Entry& entry, JobState state)
{
    entry.info.elapsedMs = entry.clock.isValid() ? entry.clock.elapsed() : 0;
    entry.info.remainingMs = -1;
    entry.info.state = state;
    entry.feedback->set_listener({});
}

JobQueue::Entry* JobQueue::find(quint64 id)
{
    for (auto& entry : m_entries)
        if (entry.info.id == id) return &entry;
    return nullptr;
}

const JobQueue::Entry* JobQueue::find(quint64 id) const
{
    for (const auto& entry : m_entries)
        if (entry.info.id == id) return &entry;
    return nullptr;
}

}  // namespace qs::gui
