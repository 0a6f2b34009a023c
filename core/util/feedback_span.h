// A step of a longer task whose algorithm reports its own progress from 0 to 1 (quantizing one
// layer, evaluating one dataset): FeedbackSpan hands the step a Feedback whose reports land in
// [begin, end] of the parent's progress, so the task's progress bar moves forward once instead
// of restarting at every step. Stage texts get `prefix` ("layer 2/5 · ") so the step's own
// texts ("GPTQ: columns") still say where the task is.
// Feedback has no parent link, so the parent's cancel reaches the step when the step next
// reports (forwarding a report checks the parent) or polls after one; the constructor copies
// a cancel that happened before the step started.
#pragma once

#include <string>

#include "core/util/feedback.h"

namespace qs {

class FeedbackSpan {
public:
    FeedbackSpan(Feedback* parent, double begin, double end, std::string prefix = {})
        : m_parent(parent)
    {
        if (!parent) return;
        if (parent->is_cancelled()) m_child.cancel();
        m_child.set_listener([this, begin, end, prefix = std::move(prefix)](
                                 double fraction, const std::string& stage) {
            m_parent->set_progress(begin + (end - begin) * fraction, prefix + stage);
            if (m_parent->is_cancelled()) m_child.cancel();
        });
    }
    FeedbackSpan(const FeedbackSpan&) = delete;
    FeedbackSpan& operator=(const FeedbackSpan&) = delete;

    // The token to hand to the step; null when the parent is null (algorithms accept null).
    Feedback* get() { return m_parent ? &m_child : nullptr; }

private:
    Feedback* m_parent;
    Feedback m_child;
};

}  // namespace qs
