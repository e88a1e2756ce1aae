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

    // Runs fn(begin, end) over chunks covering [0, n) on all threads (the caller included) and returns
    // when every chunk is done. grain == 0: at most size() equal contiguous chunks, one per thread.
    // grain > 0: chunks of `grain` items; thread i starts with chunk i, the rest are claimed from a shared
    // counter, so a thread that is slowed down (a busy core, an efficiency core) takes fewer; fn may then
    // run several times per thread.
    // Calls from several threads are serialized. An exception thrown by fn is rethrown here (the
    // first one wins; chunks not yet claimed are skipped).
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 0);
    // As parallel_for with claimed chunks, but each claim takes half of an equal share of what is left
    // (remaining / (2·size()), rounded down to a multiple of `unit`, at least `unit`): a few large chunks
    // first, then smaller ones, so the threads finish within about one unit of each other.
    void parallel_for_guided(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t unit);

private:
    void worker_main(int index);
    void run_job(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain, bool guided);
    // Runs this thread's share of the current job: static chunk `index`, or claimed grains.
    void run_share(int index, const std::function<void(int64_t, int64_t)>& fn);

    int n_threads_ = 1;
    std::vector<std::thread> workers_;
    std::mutex call_mutex_;  // serializes parallel_for callers
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t job_n_ = 0;
    int64_t job_grain_ = 0;
    bool job_guided_ = false;
    // Each on its own cache line: the workers spin reading generation_ while others claim from next_ and
    // count down pending_; sharing a line, every claim would also pull it away from the spinners.
    alignas(64) std::atomic<int64_t> next_{0};          // next unclaimed item when job_grain_ > 0
    alignas(64) std::atomic<uint64_t> generation_{0};  // bumped (under mutex_) for each job
    alignas(64) std::atomic<int> pending_{0};          // workers still running the current job
    std::atomic<bool> stop_{false};
    std::exception_ptr error_;
};

}  // namespace bonsai::cpu
