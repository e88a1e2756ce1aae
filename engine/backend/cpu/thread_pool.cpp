#include "backend/cpu/thread_pool.h"

namespace bonsai::cpu {

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    workers_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

static void chunk_bounds(int64_t n, int parts, int index, int64_t& begin, int64_t& end) {
    const int64_t base = n / parts, rem = n % parts;
    begin = index * base + (index < rem ? index : rem);
    end = begin + base + (index < rem ? 1 : 0);
}

void ThreadPool::worker_main(int index) {
    uint64_t seen = 0;
    for (;;) {
        const std::function<void(int64_t, int64_t)>* job = nullptr;
        int64_t n = 0;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
            job = job_;
            n = job_n_;
        }
        int64_t b = 0, e = 0;
        chunk_bounds(n, n_threads_, index, b, e);
        std::exception_ptr err;
        if (b < e) {
            try {
                (*job)(b, e);
            } catch (...) {
                err = std::current_exception();
            }
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (err && !error_) error_ = err;
        if (--pending_ == 0) done_.notify_one();
    }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    if (n_threads_ == 1 || n == 1) {
        fn(0, n);
        return;
    }
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &fn;
        job_n_ = n;
        pending_ = n_threads_ - 1;
        error_ = nullptr;
        ++generation_;
    }
    wake_.notify_all();
    int64_t b = 0, e = 0;
    chunk_bounds(n, n_threads_, 0, b, e);
    std::exception_ptr err;
    try {
        if (b < e) fn(b, e);
    } catch (...) {
        err = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (!err) err = error_;
    error_ = nullptr;
    if (err) std::rethrow_exception(err);
}

}  // namespace bonsai::cpu
