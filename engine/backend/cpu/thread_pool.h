#pragma once
// A small persistent thread pool: workers are started once. Between jobs they spin briefly on an atomic
// generation counter (a decode step issues ~200 jobs a few microseconds apart, and a futex wake-up
// costs as much as a small matmul), then sleep on a condition variable, so an idle pool uses no CPU.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bonsai::cpu {

class ThreadPool {
public:
    // `n_threads` counts the calling thread: 1 means no workers (everything runs inline).
    // Values < 1 are treated as 1.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Splits [0, n) into at most size() contiguous chunks and runs fn(begin, end) on each, the caller
    // taking the first chunk; returns when every chunk is done. Calls from several threads are
    // serialized. An exception thrown by fn is rethrown here (the first one wins).
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

private:
    void worker_main(int index);

    int n_threads_ = 1;
    std::vector<std::thread> workers_;
    std::mutex call_mutex_;  // serializes parallel_for callers
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t job_n_ = 0;
    std::atomic<uint64_t> generation_{0};  // bumped (under mutex_) for each job
    std::atomic<int> pending_{0};          // workers still running the current job
    std::atomic<bool> stop_{false};
    std::exception_ptr error_;
};

}  // namespace bonsai::cpu
