// The JobQueue (widgets/job_queue.h) and its view: jobs run in order on one worker thread,
// progress arrives coalesced with a time estimate, queued and running jobs cancel, failures
// carry their message, the destructor joins; and the acceptance test: the GUI thread's event
// loop stays responsive (largest gap between 10 ms timer ticks under 100 ms) while a real GPTQ
// experiment runs through qs::Workbench on stories260K.
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include <QDir>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QThread>
#include <QTimer>
#include <QtTest>

#include "core/study/workbench.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/threading.h"
#include "widgets/job_queue.h"
#include "widgets/job_queue_view.h"

using qs::gui::JobInfo;
using qs::gui::JobQueue;
using qs::gui::JobQueueView;
using qs::gui::JobState;

namespace {

QString sharedDir()
{
    const QByteArray env = qgetenv("QS_SHARED");
    return env.isEmpty() ? QStringLiteral(QS_SHARED_DEFAULT) : QString::fromLocal8Bit(env);
}

// Works until cancelled (polling like the core algorithms), at most `limitMs`.
QVariant spinUntilCancelled(qs::Feedback& feedback, int limitMs, std::atomic<bool>* started)
{
    if (started) started->store(true);
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(limitMs);
    while (std::chrono::steady_clock::now() < end) {
        feedback.check_cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return QStringLiteral("ran out");
}

bool waitFor(const std::function<bool()>& done, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!done() && clock.elapsed() < timeoutMs)
        QTest::qWait(5);
    return done();
}

}  // namespace

class TestJobQueue : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { qs::configure_threads(); }

    void jobsRunInOrderOnOneWorkerThread()
    {
        JobQueue queue;
        std::mutex mutex;
        std::vector<int> order;
        std::vector<std::thread::id> threads;
        QList<int> callbacks;
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        QSignalSpy idle(&queue, &JobQueue::idle);
        for (int i = 1; i <= 3; ++i)
            queue.enqueue(
                QStringLiteral("job %1").arg(i),
                [&, i](qs::Feedback&) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    std::lock_guard lock(mutex);
                    order.push_back(i);
                    threads.push_back(std::this_thread::get_id());
                    return QVariant(i * 10);
                },
                [&callbacks](const QVariant& result) { callbacks << result.toInt(); });
        QVERIFY(queue.isBusy());
        QVERIFY(idle.wait(5000));
        QCOMPARE(order, (std::vector<int>{1, 2, 3}));
        QCOMPARE(callbacks, (QList<int>{10, 20, 30}));
        QCOMPARE(finished.count(), 3);
        QCOMPARE(finished[0][1].value<QVariant>().toInt(), 10);
        QVERIFY(threads[0] == threads[1] && threads[1] == threads[2]);
        QVERIFY(threads[0] != std::this_thread::get_id());
        for (const JobInfo& info : queue.jobs()) {
            QCOMPARE(info.state, JobState::Done);
            QCOMPARE(info.fraction, 1.0);
        }
        QVERIFY(!queue.isBusy());
        queue.clearFinished();
        QVERIFY(queue.jobs().isEmpty());
    }

    void progressIsCoalescedAndEstimatesTimeLeft()
    {
        JobQueue queue;
        JobQueueView view(&queue);
        view.resize(420, 200);
        view.show();
        QList<double> fractions;
        QList<qint64> estimates;
        QStringList texts;
        quint64 id = 0;
        connect(&queue, &JobQueue::jobProgress, this, [&](quint64 job, double f, const QString&) {
            fractions << f;
            estimates << queue.job(job).remainingMs;
            texts << view.progressText(job);
        });
        QElapsedTimer clock;
        clock.start();
        id = queue.enqueue(QStringLiteral("chatty"), [](qs::Feedback& feedback) {
            // 3000 reports in about 0.9 s: far more than the GUI should see.
            for (int i = 0; i < 3000; ++i) {
                qs::report(&feedback, i / 3000.0, "step " + std::to_string(i));
                std::this_thread::sleep_for(std::chrono::microseconds(300));
            }
            return QVariant();
        });
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        QVERIFY(finished.wait(10000));
        const double seconds = clock.elapsed() / 1000.0;
        qInfo("%lld progress updates reached the GUI in %.2f s (3000 reports)",
              qlonglong(fractions.size()), seconds);
        QVERIFY(fractions.size() >= 3);
        QVERIFY2(fractions.size() <= int(seconds * 20) + 3, "progress not throttled to 20/s");
        QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
        QVERIFY(fractions.last() > 0.5);
        QVERIFY2(std::any_of(estimates.begin(), estimates.end(), [](qint64 ms) { return ms >= 0; }),
                 "no time estimate once past 2 %");
        const QString last = texts.last();
        QVERIFY2(last.contains(QStringLiteral("step ")) && last.contains(QStringLiteral(" %")) &&
                     last.contains(QStringLiteral("left")),
                 qPrintable(last));
        QCOMPARE(queue.job(id).state, JobState::Done);
        QVERIFY(view.progressText(id).startsWith(QStringLiteral("finished in")));
    }

    void cancelQueuedAndRunningJobs()
    {
        JobQueue queue;
        std::atomic<bool> aStarted{false}, bRan{false};
        QSignalSpy cancelled(&queue, &JobQueue::jobCancelled);
        const quint64 a = queue.enqueue(QStringLiteral("long"), [&](qs::Feedback& feedback) {
            return spinUntilCancelled(feedback, 20000, &aStarted);
        });
        const quint64 b = queue.enqueue(QStringLiteral("queued"), [&](qs::Feedback&) {
            bRan = true;
            return QVariant();
        });
        QVERIFY(waitFor([&] { return aStarted.load(); }, 5000));
        QCOMPARE(queue.job(b).state, JobState::Queued);
        queue.cancel(b);  // removed at once
        QCOMPARE(queue.job(b).state, JobState::Cancelled);
        QCOMPARE(cancelled.count(), 1);
        QCOMPARE(cancelled[0][0].value<quint64>(), b);
        QVERIFY(waitFor([&] { return queue.job(a).state == JobState::Running; }, 5000));
        queue.cancel(a);
        QVERIFY(queue.job(a).cancelRequested);
        QVERIFY(waitFor([&] { return cancelled.count() == 2; }, 5000));
        QCOMPARE(cancelled[1][0].value<quint64>(), a);
        QCOMPARE(queue.job(a).state, JobState::Cancelled);
        QVERIFY(!bRan.load());
        // The queue goes on.
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        queue.enqueue(QStringLiteral("after"), [](qs::Feedback&) { return QVariant(7); });
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished[0][1].value<QVariant>().toInt(), 7);
    }

    void cancelAllEmptiesTheQueue()
    {
        JobQueue queue;
        std::atomic<bool> started{false};
        std::atomic<int> ran{0};
        QSignalSpy idle(&queue, &JobQueue::idle);
        queue.enqueue(QStringLiteral("long"), [&](qs::Feedback& feedback) {
            return spinUntilCancelled(feedback, 20000, &started);
        });
        for (int i = 0; i < 3; ++i)
            queue.enqueue(QStringLiteral("queued"), [&](qs::Feedback&) {
                ++ran;
                return QVariant();
            });
        QVERIFY(waitFor([&] { return started.load(); }, 5000));
        queue.cancelAll();
        QVERIFY(idle.wait(5000) || !queue.isBusy());
        QCOMPARE(ran.load(), 0);
        for (const JobInfo& info : queue.jobs())
            QCOMPARE(info.state, JobState::Cancelled);
    }

    void failureMessageIsDelivered()
    {
        JobQueue queue;
        QString callbackMessage;
        QSignalSpy failed(&queue, &JobQueue::jobFailed);
        const quint64 id = queue.enqueue(
            QStringLiteral("broken"),
            [](qs::Feedback&) -> QVariant { throw qs::QsError("model.safetensors: truncated"); },
            {}, [&](const QString& message) { callbackMessage = message; });
        QVERIFY(failed.wait(5000));
        QCOMPARE(failed[0][0].value<quint64>(), id);
        QCOMPARE(failed[0][1].toString(), QStringLiteral("model.safetensors: truncated"));
        QCOMPARE(callbackMessage, QStringLiteral("model.safetensors: truncated"));
        QCOMPARE(queue.job(id).state, JobState::Failed);
        QCOMPARE(queue.job(id).message, QStringLiteral("model.safetensors: truncated"));
    }

    void destructorCancelsAndJoins()
    {
        std::atomic<bool> started{false}, sawCancel{false};
        QElapsedTimer clock;
        {
            JobQueue queue;
            queue.enqueue(QStringLiteral("long"), [&](qs::Feedback& feedback) {
                try {
                    return spinUntilCancelled(feedback, 20000, &started);
                } catch (const qs::CancelledError&) {
                    sawCancel = true;
                    throw;
                }
            });
            QVERIFY(waitFor([&] { return started.load(); }, 5000));
            clock.start();
        }
        QVERIFY(sawCancel.load());
        QVERIFY2(clock.elapsed() < 2000, "the destructor waited for the job to finish on its own");
    }

    // Acceptance: the GUI thread keeps turning while GPTQ runs on the worker.
    void eventLoopStaysResponsiveWhileGptqRuns()
    {
        const QString model = sharedDir() + QStringLiteral("/models/stories260K/hf");
        if (!QFileInfo::exists(model + QStringLiteral("/config.json")))
            QSKIP("stories260K not found under QS_SHARED");
        JobQueue queue;
        JobQueueView view(&queue);  // progress repaints are part of the GUI's load
        view.resize(420, 240);
        view.show();

        auto settings =
            qs::Workbench::default_settings(model.toStdString(), sharedDir().toStdString());
        settings.calibration.samples = 32;
        settings.calibration.seqlen = 256;
        settings.eval_datasets.resize(std::min<std::size_t>(1, settings.eval_datasets.size()));
        settings.eval_windows = 8;
        // One Workbench for every job, opened by the first (as the GUI does). GPTQ experiments
        // are queued one after another until the worker has run GPTQ for at least 3 s, so
        // the measurement means something on a fast machine and stays short on a slow one.
        auto workbench = std::make_shared<std::shared_ptr<qs::Workbench>>();
        const std::string modelDir = model.toStdString();
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        QSignalSpy failed(&queue, &JobQueue::jobFailed);
        QSignalSpy progress(&queue, &JobQueue::jobProgress);
        auto enqueueGptq = [&](int index) {
            return queue.enqueue(
                QStringLiteral("GPTQ %1 on stories260K").arg(index),
                [modelDir, settings, workbench, index](qs::Feedback& feedback) {
                    if (!*workbench)
                        *workbench = std::make_shared<qs::Workbench>(modelDir, settings);
                    auto recipe = (*workbench)->recipe_defaults();
                    recipe.methods = {qs::Method::Gptq};
                    recipe.weights =
                        qs::QuantFormat::parse(index % 2 ? "int4-g32-asym" : "int3-g32-asym");
                    recipe.gptq.act_order = true;
                    recipe.name = recipe.default_name();
                    const std::string id = "exp-" + std::to_string(index);
                    return QVariant::fromValue((*workbench)->run_experiment(recipe, id, &feedback));
                });
        };

        QElapsedTimer sinceTick;
        qint64 maxGap = 0, runningMs = 0;
        int ticks = 0;
        QTimer timer;
        timer.setTimerType(Qt::PreciseTimer);
        timer.setInterval(10);
        connect(&timer, &QTimer::timeout, this, [&] {
            const QList<JobInfo> jobs = queue.jobs();
            const bool running = std::any_of(jobs.begin(), jobs.end(), [](const JobInfo& info) {
                return info.state == JobState::Running;
            });
            if (running && sinceTick.isValid()) {
                const qint64 gap = sinceTick.elapsed();
                maxGap = std::max(maxGap, gap);
                runningMs += gap;
                ++ticks;
            }
            sinceTick.restart();
        });
        timer.start();
        int experiments = 0;
        while (runningMs < 3000 && experiments < 8) {
            enqueueGptq(++experiments);
            QVERIFY(
                waitFor([&] { return finished.count() + failed.count() >= experiments; }, 300000));
            QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed[0][1].toString()));
        }
        timer.stop();
        const auto record = finished[0][1].value<QVariant>().value<qs::ExperimentRecord>();
        QCOMPARE(record.linears.size(), std::size_t(35));
        QVERIFY(!record.perplexity.empty() && std::isfinite(record.perplexity[0].ppl));
        const double seconds = runningMs / 1000.0;
        qInfo(
            "%d GPTQ experiment(s) ran %.1f s on the worker; GUI timer: %d ticks, largest gap "
            "%lld ms; %lld progress updates",
            experiments, seconds, ticks, qlonglong(maxGap), qlonglong(progress.count()));
        QVERIFY2(seconds >= 2.5, "the experiments were too short to measure latency");
        QVERIFY2(maxGap < 100, qPrintable(QStringLiteral("event loop stalled %1 ms").arg(maxGap)));
        QVERIFY(progress.count() <= int(seconds * 20) + 3 * experiments);
    }

    void screenshot()
    {
        const QByteArray dir = qgetenv("QS_SCREENSHOT_DIR");
        if (dir.isEmpty()) QSKIP("set QS_SCREENSHOT_DIR to write screenshots");
        JobQueue queue;
        JobQueueView view(&queue);
        view.resize(380, 300);
        view.show();
        queue.enqueue(QStringLiteral("Baseline statistics of stories260K"),
                      [](qs::Feedback&) { return QVariant(); });
        queue.enqueue(QStringLiteral("Run rtn-int4-g32-asym"), [](qs::Feedback&) -> QVariant {
            throw qs::QsError("valid.txt: cannot open calibration text");
        });
        std::atomic<bool> started{false};
        queue.enqueue(QStringLiteral("Run gptq-int4-g128-asym"), [&](qs::Feedback& feedback) {
            qs::report(&feedback, 0.42, "layer 2/5 · GPTQ: columns");
            return spinUntilCancelled(feedback, 20000, &started);
        });
        queue.enqueue(QStringLiteral("Run awq+gptq-mxint4-32-amxint8-32"),
                      [](qs::Feedback&) { return QVariant(); });
        QVERIFY(waitFor([&] { return started.load(); }, 5000));
        QTest::qWait(2200);  // an estimate needs some elapsed time
        QVERIFY(view.grab().save(QString::fromLocal8Bit(dir) + "/job_queue_view.png"));
        view.resize(260, 300);
        QTest::qWait(50);
        QVERIFY(view.grab().save(QString::fromLocal8Bit(dir) + "/job_queue_view_narrow.png"));
        queue.cancelAll();
    }
};

QTEST_MAIN(TestJobQueue)
#include "test_job_queue.moc"
