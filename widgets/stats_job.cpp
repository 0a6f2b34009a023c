#include "widgets/stats_job.h"

#include <exception>

#include <QMetaObject>
#include <QtConcurrent/QtConcurrentRun>

#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs::gui {

StatsJob::StatsJob(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<qs::WeightStats>();
}

StatsJob::~StatsJob()
{
    cancel();
    for (auto& worker : m_workers)
        worker.waitForFinished();
}

void StatsJob::start(const QString& modelDir, const QString& tensorName, int bins)
{
    cancel();
    pruneFinished();
    const quint64 generation = ++m_generation;
    m_feedback = std::make_shared<Feedback>();
    m_active = true;
    m_tensorName = tensorName;
    m_feedback->set_listener([this, generation](double fraction, const std::string& stage) {
        // Runs on the worker: post, never touch widgets here.
        QMetaObject::invokeMethod(
            this,
            [this, generation, fraction, text = QString::fromStdString(stage)] {
                deliverProgress(generation, fraction, text);
            },
            Qt::QueuedConnection);
    });
    m_workers.append(QtConcurrent::run(&StatsJob::run, this, generation, m_feedback,
                                       modelDir.toStdString(), tensorName.toStdString(), bins));
    emit started(tensorName);
}

void StatsJob::cancel()
{
    if (m_feedback) m_feedback->cancel();
    m_feedback.reset();
    m_active = false;
}

void StatsJob::run(quint64 generation, std::shared_ptr<Feedback> feedback, std::string modelDir,
                   std::string tensorName, int bins)
{
    auto post = [this](auto&& call) {
        QMetaObject::invokeMethod(this, std::forward<decltype(call)>(call), Qt::QueuedConnection);
    };
    try {
        WeightStats stats = compute_weight_stats(modelDir, tensorName, bins, feedback.get());
        post([this, generation, stats = std::move(stats)] { deliverStats(generation, stats); });
    } catch (const CancelledError&) {
        // Superseded by a newer selection: nothing to report.
    } catch (const std::exception& e) {
        post([this, generation, message = QString::fromStdString(e.what())] {
            deliverFailure(generation, message);
        });
    } catch (...) {
        post([this, generation] { deliverFailure(generation, tr("unknown error")); });
    }
}

void StatsJob::deliverProgress(quint64 generation, double fraction, const QString& stage)
{
    if (generation == m_generation && m_active) emit progressChanged(fraction, stage);
}

void StatsJob::deliverStats(quint64 generation, const qs::WeightStats& stats)
{
    if (generation != m_generation || !m_active) return;
    m_active = false;
    emit statsReady(stats);
}

void StatsJob::deliverFailure(quint64 generation, const QString& message)
{
    if (generation != m_generation || !m_active) return;
    m_active = false;
    emit failed(m_tensorName, message);
}

void StatsJob::pruneFinished()
{
    m_workers.removeIf([](const QFuture<void>& worker) { return worker.isFinished(); });
}

}  // namespace qs::gui
