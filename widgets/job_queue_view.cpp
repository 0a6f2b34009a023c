#include "widgets/job_queue_view.h"

#include <algorithm>

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "widgets/job_queue.h"

namespace qs::gui {

namespace {

const QColor kFailedColour(0xD5, 0x5E, 0x00);  // Okabe-Ito vermillion

QString clockText(qint64 ms)
{
    const qint64 s = (ms + 500) / 1000;
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

// One job: title and state on the first line, the progress bar (or the outcome) below.
class JobRow : public QFrame {
public:
    JobRow(JobQueue* queue, quint64 id, QWidget* parent) : QFrame(parent), m_id(id)
    {
        setFrameShape(QFrame::StyledPanel);
        auto* layout = new QVBoxLayout(this);
        layout->setContentsMargins(6, 4, 4, 4);
        layout->setSpacing(2);
        auto* top = new QHBoxLayout;
        m_title = new QLabel(this);
        m_title->setTextFormat(Qt::PlainText);
        m_title->setMinimumWidth(40);
        // Long recipe names must not widen the dock: the title is elided to the row instead.
        m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
        QFont bold = m_title->font();
        bold.setBold(true);
        m_title->setFont(bold);
        m_state = new QLabel(this);
        m_cancel = new QToolButton(this);
        m_cancel->setIcon(style()->standardIcon(QStyle::SP_DialogCancelButton));
        m_cancel->setAutoRaise(true);
        m_cancel->setToolTip(tr("Cancel this job"));
        QObject::connect(m_cancel, &QToolButton::clicked, queue,
                         [queue, id] { queue->cancel(id); });
        top->addWidget(m_title, 1);
        top->addWidget(m_state);
        top->addWidget(m_cancel);
        layout->addLayout(top);
        m_bar = new QProgressBar(this);
        m_bar->setRange(0, 1000);
        m_bar->setTextVisible(true);
        m_bar->setAlignment(Qt::AlignCenter);
        layout->addWidget(m_bar);
        m_outcome = new QLabel(this);
        m_outcome->setWordWrap(true);
        m_outcome->setTextInteractionFlags(Qt::TextSelectableByMouse);
        layout->addWidget(m_outcome);
    }

    quint64 id() const { return m_id; }
    QString progressText() const
    {
        const bool active = m_info.state == JobState::Running || m_info.state == JobState::Queued;
        return active ? m_bar->format() : m_outcome->text();
    }

    void display(const JobInfo& info)
    {
        m_info = info;
        m_title->setToolTip(info.title);
        QString state = jobStateName(info.state);
        if (info.cancelRequested && !info.finished()) state = tr("cancelling…");
        m_state->setText(state);
        m_cancel->setVisible(!info.finished() && !info.cancelRequested);
        const bool active = info.state == JobState::Running || info.state == JobState::Queued;
        m_bar->setVisible(active);
        m_outcome->setVisible(!active);
        if (active) {
            m_bar->setValue(int(info.fraction * 1000));
        } else {
            QString text;
            if (info.state == JobState::Done)
                text = tr("finished in %1").arg(clockText(info.elapsedMs));
            else if (info.state == JobState::Cancelled)
                text = info.elapsedMs > 0 ? tr("cancelled after %1").arg(clockText(info.elapsedMs))
                                          : tr("cancelled before it started");
            else
                text = info.message;
            m_outcome->setText(text);
            m_outcome->setToolTip(text);
        }
        // Finished jobs stay listed but step back; a failure keeps its message readable.
        QPalette grey = palette();
        const QColor muted = palette().color(QPalette::Disabled, QPalette::WindowText);
        grey.setColor(QPalette::WindowText,
                      info.finished() ? muted : palette().color(QPalette::WindowText));
        m_title->setPalette(grey);
        m_state->setPalette(grey);
        QPalette outcome = grey;
        if (info.state == JobState::Failed) outcome.setColor(QPalette::WindowText, kFailedColour);
        m_outcome->setPalette(outcome);
        updateTexts();
    }

protected:
    void resizeEvent(QResizeEvent* event) override
    {
        QFrame::resizeEvent(event);
        updateTexts();
    }

private:
    // The elided title, and "stage · 42 % · 1:05 left" with the stage elided so the numbers
    // always fit.
    void updateTexts()
    {
        m_title->setText(m_title->fontMetrics().elidedText(m_info.title, Qt::ElideRight,
                                                           std::max(40, m_title->width())));
        if (m_info.state == JobState::Queued) {
            m_bar->setFormat(tr("waiting"));
            m_bar->setToolTip({});
            return;
        }
        QString numbers = QStringLiteral("%1 %").arg(int(m_info.fraction * 100));
        if (m_info.remainingMs >= 0)
            numbers += tr(" · %1 left").arg(clockText(m_info.remainingMs));
        else
            numbers += tr(" · %1").arg(clockText(m_info.elapsedMs));
        const QFontMetrics metrics(m_bar->font());
        const int room = m_bar->width() - metrics.horizontalAdvance(numbers + " · ") - 24;
        const QString stage = m_info.stage.isEmpty()
                                  ? QString()
                                  : metrics.elidedText(m_info.stage, Qt::ElideRight, room);
        m_bar->setFormat(stage.isEmpty() || room < 30 ? numbers : stage + " · " + numbers);
        m_bar->setToolTip(m_info.stage.isEmpty() ? numbers : m_info.stage + " · " + numbers);
    }

    quint64 m_id;
    JobInfo m_info;
    QLabel* m_title;
    QLabel* m_state;
    QToolButton* m_cancel;
    QProgressBar* m_bar;
    QLabel* m_outcome;
};

JobQueueView::JobQueueView(JobQueue* queue, QWidget* parent) : QWidget(parent), m_queue(queue)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    auto* header = new QHBoxLayout;
    m_summary = new QLabel(this);
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // narrow docks
    m_cancelAll = new QPushButton(tr("Cancel all"), this);
    m_clear = new QPushButton(tr("Clear finished"), this);
    m_cancelAll->setToolTip(tr("Cancel the running job and remove every queued one"));
    m_clear->setToolTip(tr("Remove finished, failed and cancelled jobs from the list"));
    header->addWidget(m_summary, 1);
    header->addWidget(m_cancelAll);
    header->addWidget(m_clear);
    layout->addLayout(header);

    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* content = new QWidget(scroll);
    m_list = new QVBoxLayout(content);
    m_list->setContentsMargins(0, 0, 0, 0);
    m_list->setSpacing(4);
    m_empty = new QLabel(tr("No jobs. Run a recipe or open a model to start one."), content);
    m_empty->setWordWrap(true);
    m_empty->setEnabled(false);
    m_list->addWidget(m_empty);
    m_list->addStretch(1);
    scroll->setWidget(content);
    layout->addWidget(scroll, 1);

    m_clock = new QTimer(this);
    m_clock->setInterval(1000);
    connect(m_clock, &QTimer::timeout, this, &JobQueueView::refreshTimes);
    connect(m_cancelAll, &QPushButton::clicked, m_queue, &JobQueue::cancelAll);
    connect(m_clear, &QPushButton::clicked, m_queue, &JobQueue::clearFinished);
    connect(m_queue, &JobQueue::jobsChanged, this, &JobQueueView::sync);
    connect(m_queue, &JobQueue::jobProgress, this, [this](quint64 id, double, const QString&) {
        if (auto* row = m_rows.value(id)) row->display(m_queue->job(id));
    });
    sync();
}

JobQueueView::~JobQueueView() = default;

QSize JobQueueView::sizeHint() const
{
    return {360, 220};
}

QString JobQueueView::progressText(quint64 id) const
{
    auto* row = m_rows.value(id);
    return row ? row->progressText() : QString();
}

void JobQueueView::sync()
{
    const QList<JobInfo> jobs = m_queue->jobs();
    QHash<quint64, JobRow*> kept;
    int running = 0, queued = 0, finished = 0;
    for (const JobInfo& info : jobs) {
        JobRow* row = m_rows.take(info.id);
        if (!row) {
            row = new JobRow(m_queue, info.id, m_list->parentWidget());
            m_list->insertWidget(m_list->count() - 1,
                                 row);  // new jobs come last; above the stretch
        }
        row->display(info);
        kept.insert(info.id, row);
        running += info.state == JobState::Running;
        queued += info.state == JobState::Queued;
        finished += info.finished();
    }
    for (JobRow* gone : std::as_const(m_rows))
        delete gone;
    m_rows = kept;
    m_empty->setVisible(jobs.isEmpty());
    QStringList parts;
    if (running) parts << tr("%1 running").arg(running);
    if (queued) parts << tr("%1 queued").arg(queued);
    if (finished) parts << tr("%1 finished").arg(finished);
    const QString summary = parts.isEmpty() ? tr("Idle") : parts.join(QStringLiteral(", "));
    m_summaryText = summary;
    m_summary->setToolTip(summary);
    m_summary->setText(m_summary->fontMetrics().elidedText(summary, Qt::ElideRight,
                                                           std::max(20, m_summary->width())));
    m_cancelAll->setEnabled(running + queued > 0);
    m_clear->setEnabled(finished > 0);
    if (running + queued > 0)
        m_clock->start();
    else
        m_clock->stop();
}

void JobQueueView::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    m_summary->setText(m_summary->fontMetrics().elidedText(m_summaryText, Qt::ElideRight,
                                                           std::max(20, m_summary->width())));
}

void JobQueueView::refreshTimes()
{
    for (const JobInfo& info : m_queue->jobs())
        if (info.state == JobState::Running)
            if (auto* row = m_rows.value(info.id)) row->display(info);
}

}  // namespace qs::gui
