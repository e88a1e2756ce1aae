#include "host/watchdog.h"

namespace bonsai::plugins {

Watchdog::Watchdog() : thread_([this] { loop(); }) {}

Watchdog::~Watchdog() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

quint64 Watchdog::arm(int timeoutMs, std::function<void()> onExpire) {
    std::lock_guard lock(mutex_);
    const quint64 token = next_++;
    entries_[token] = Entry{std::chrono::steady_clock::now() + std::chrono::milliseconds(qMax(1, timeoutMs)),
                            std::move(onExpire), false};
    wake_.notify_all();
    return token;
}

bool Watchdog::disarm(quint64 token) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(token);
    if (it == entries_.end()) return false;
    const bool fired = it->second.fired;
    entries_.erase(it);
    return fired;
}

void Watchdog::loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        auto next = std::chrono::steady_clock::time_point::max();
        const auto now = std::chrono::steady_clock::now();
        for (auto& [token, e] : entries_) {
            if (e.fired) continue;
            if (e.deadline <= now) {
                e.fired = true;
                if (e.onExpire) e.onExpire();  // under the lock: see the header
            } else if (e.deadline < next) {
                next = e.deadline;
            }
        }
        if (next == std::chrono::steady_clock::time_point::max()) wake_.wait(lock);
        else wake_.wait_until(lock, next);
    }
}

}  // namespace bonsai::plugins
