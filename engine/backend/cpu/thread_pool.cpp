#include "backend/cpu/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace bonsai::cpu {
namespace {

// About 50-100 µs of spinning before sleeping: long enough to cover the gap between the matmuls of
// one decode step, short enough not to burn a shared machine when the pool is idle.
constexpr int kSpin = 2000;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

void chunk_bounds(int64_t n, int parts, int index, int64_t& begin, int64_t& end) {
    const int64_t base = n / parts, rem = n % parts;
    begin = index * base + (index < rem ? index : rem);
    end = begin + base + (index < rem ? 1 : 0);
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    workers_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::worker_main(int index) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = 0;
        for (int spins = 0; (g = generation_.load(std::memory_order_acquire)) == seen && !stop_.load(std::memory_order_relaxed);) {
            if (++spins < kSpin) {
                relax();
                continue;
            }
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
        }
        if (stop_.load()) return;
        seen = g;
        try {
            run_share(index, *job_);
        } catch (...) {
            next_.store(job_n_, std::memory_order_relaxed);  // nobody claims further grains
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard<std::mutex> lock(mutex_);  // pairs with the caller's predicate check
            done_.notify_one();
        }
    }
}

void ThreadPool::run_share(int index, const std::function<void(int64_t, int64_t)>& fn) {
    const int64_t n = job_n_, grain = job_grain_;
    if (grain <= 0) {
        int64_t b = 0, e = 0;
        chunk_bounds(n, n_threads_, index, b, e);
        if (b < e) fn(b, e);
        return;
    }
    if (job_guided_) {
        for (int64_t b = next_.load(std::memory_order_relaxed);;) {
            if (b >= n) return;
            const int64_t c = std::max(grain, (n - b) / (2 * n_threads_) / grain * grain);
            if (next_.compare_exchange_weak(b, b + c, std::memory_order_relaxed)) {
                fn(b, std::min(n, b + c));
                b = next_.load(std::memory_order_relaxed);
            }
        }
    }
    // Chunk `index` without an atomic, then claims from next_ (which starts after the first chunk of every
    // thread): one contended read-modify-write less per thread and job, and a read instead of the last,
    // failing one (a decode job's 2 chunks per thread on 16 threads cost ~48 of them on one cache line).
    if (index * grain < n) fn(index * grain, std::min(n, (index + 1) * grain));
    while (next_.load(std::memory_order_relaxed) < n) {
        const int64_t b = next_.fetch_add(grain, std::memory_order_relaxed);
        if (b >= n) break;
        fn(b, std::min(n, b + grain));
    }
}

void ThreadPool::parallel_for_guided(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t unit) {
    run_job(n, fn, unit < 1 ? 1 : unit, true);
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
    run_job(n, fn, grain, false);
}

void ThreadPool::run_job(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain, bool guided) {
    if (n <= 0) return;
    if (n_threads_ == 1 || n == 1 || (grain > 0 && grain >= n)) {
        if (grain <= 0 || guided) grain = n;
        for (int64_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
        return;
    }
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &fn;
        job_n_ = n;
        job_grain_ = grain;
        job_guided_ = guided;
        next_.store(guided || grain <= 0 ? 0 : grain * n_threads_, std::memory_order_relaxed);  // run_share
        error_ = nullptr;
        pending_.store(n_threads_ - 1, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    std::exception_ptr err;
    try {
        run_share(0, fn);
    } catch (...) {
        next_.store(n, std::memory_order_relaxed);
        err = std::current_exception();
    }
    for (int spins = 0; pending_.load(std::memory_order_acquire) != 0 && spins < kSpin; ++spins) relax();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    job_ = nullptr;
    if (!err) err = error_;
    error_ = nullptr;
    if (err) std::rethrow_exception(err);
}

}  // namespace bonsai::cpu
