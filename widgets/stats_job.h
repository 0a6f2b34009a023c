// Computes qs::WeightStats for one tensor on a worker thread (QtConcurrent, global pool).
// Only the latest request matters: start() cancels the previous job's Feedback token, and
// results or progress of a superseded job are dropped by a generation counter, so a late
// result can never overwrite the plots of the tensor the user selected afterwards.
#pragma once

#include <memory>

#include <QFuture>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

#include "core/analysis/weight_stats.h"

namespace qs {
class Feedback;
}

Q_DECLARE_METATYPE(qs::WeightStats)

namespace qs::gui {

class StatsJob : public QObject {
    Q_OBJECT

public:
    explicit StatsJob(QObject* parent = nullptr);
    // Cancels and waits: workers post to this object until they return.
    ~StatsJob() override;

    void start(const QString& modelDir, const QString& tensorName, int bins = 128);
    void cancel();
    bool isRunning() const { return m_active; }
    QString tensorName() const { return m_tensorName; }

signals:
    void started(const QString& tensorName);
    void progressChanged(double fraction, const QString& stage);
    void statsReady(const qs::WeightStats& stats);
    void failed(const QString& tensorName, const QString& message);

private:
    // Worker side: runs compute_weight_stats and posts the outcome back to the GUI thread.
    void run(quint64 generation, std::shared_ptr<Feedback> feedback, std::string modelDir,
             std::string tensorName, int bins);
    void deliverProgress(quint64 generation, double fraction, const QString& stage);
    void deliverStats(quint64 generation, const qs::WeightStats& stats);
    void deliverFailure(quint64 generation, const QString& message);
    void pruneFinished();

    quint64 m_generation = 0;
    bool m_active = false;
    QString m_tensorName;
    std::shared_ptr<Feedback> m_feedback;
    QList<QFuture<void>> m_workers;  // superseded jobs may still be unwinding
};

}  // namespace qs::gui
