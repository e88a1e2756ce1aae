#pragma once
// Watchdog: a thread that enforces time limits on synchronous plugin code. A worker arms a deadline before
// calling into a plugin and disarms it after; if the deadline passes first, the watchdog runs the expiry
// action (for JavaScript: QJSEngine::setInterrupted(true), which is thread-safe).
//
// The expiry action runs while the watchdog holds its lock, and disarm() takes the same lock, so once
// disarm() has returned the action is not running and never will: whatever it points to may be destroyed.
#include <QtGlobal>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace bonsai::plugins {

class Watchdog {
public:
    Watchdog();
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    // Arms a deadline `timeoutMs` from now; returns a token for disarm().
    quint64 arm(int timeoutMs, std::function<void()> onExpire);
    // Disarms; returns true when the deadline had already passed (and the action ran).
    bool disarm(quint64 token);

private:
    void loop();

    struct Entry {
        std::chrono::steady_clock::time_point deadline;
        std::function<void()> onExpire;
        bool fired = false;
    };
    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<quint64, Entry> entries_;
    quint64 next_ = 1;
    bool stop_ = false;
    std::thread thread_;
};

// Arms in the constructor, disarms in the destructor or at disarm().
class WatchdogGuard {
public:
    WatchdogGuard(Watchdog& dog, int timeoutMs, std::function<void()> onExpire)
        : dog_(dog), token_(dog.arm(timeoutMs, std::move(onExpire))) {}
    ~WatchdogGuard() { disarm(); }
    WatchdogGuard(const WatchdogGuard&) = delete;
    WatchdogGuard& operator=(const WatchdogGuard&) = delete;
    // Disarms now; true when the time limit was hit.
    bool disarm() {
        if (token_) {
            fired_ = dog_.disarm(token_);
            token_ = 0;
        }
        return fired_;
    }

private:
    Watchdog& dog_;
    quint64 token_;
    bool fired_ = false;
};

}  // namespace bonsai::plugins
