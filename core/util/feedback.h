// Progress-and-cancel token passed to every long core algorithm (QGIS QgsFeedback style).
// The worker calls set_progress() and polls is_cancelled() between layers and column blocks;
// the owner (GUI job, CLI) reads progress from another thread and may call cancel().
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

namespace qs {

class CancelledError : public std::exception {
public:
    const char* what() const noexcept override { return "cancelled"; }
};

class Feedback {
public:
    using Listener = std::function<void(double fraction, const std::string& stage)>;

    void set_progress(double fraction, const std::string& stage)
    {
        m_fraction.store(fraction);
        Listener listener;
        {
            std::lock_guard lock(m_mutex);
            m_stage = stage;
            listener = m_listener;
        }
        if (listener) listener(fraction, stage);
    }
    double progress() const { return m_fraction.load(); }
    std::string stage() const
    {
        std::lock_guard lock(m_mutex);
        return m_stage;
    }

    void cancel() { m_cancelled.store(true); }
    bool is_cancelled() const { return m_cancelled.load(); }
    // Throws CancelledError when cancelled: the call sites are the consistent stopping points.
    void check_cancelled() const
    {
        if (is_cancelled()) throw CancelledError();
    }

    // Called on the worker thread at every set_progress(); keep it cheap and thread-safe.
    void set_listener(Listener listener)
    {
        std::lock_guard lock(m_mutex);
        m_listener = std::move(listener);
    }

private:
    std::atomic<double> m_fraction{0.0};
    std::atomic<bool> m_cancelled{false};
    mutable std::mutex m_mutex;
    std::string m_stage;
    Listener m_listener;
};

// Helper for optional tokens: algorithms take `Feedback*` that may be null.
inline void report(Feedback* feedback, double fraction, const std::string& stage)
{
    if (feedback) {
        feedback->check_cancelled();
        feedback->set_progress(fraction, stage);
    }
}

}  // namespace qs
