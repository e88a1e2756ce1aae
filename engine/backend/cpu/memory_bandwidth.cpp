#include "bonsai/memory_bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "backend/cpu/row_ops.h"
#include "bonsai/error.h"

namespace bonsai {

double measure_read_bandwidth(int threads, size_t bytes, int reps) {
    if (threads < 1) throw Error("measure_read_bandwidth: threads must be at least 1");
    const size_t n = bytes / sizeof(uint64_t);
    if (n < static_cast<size_t>(threads)) throw Error("measure_read_bandwidth: buffer too small");
    struct Mapping {  // unmapped on every exit
        size_t len;
        void* p;
        ~Mapping() {
            if (p != MAP_FAILED) munmap(p, len);
        }
    } m{n * sizeof(uint64_t), mmap(nullptr, n * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)};
    if (m.p == MAP_FAILED) throw Error("measure_read_bandwidth: cannot map " + std::to_string(bytes >> 20) + " MiB");
    void* p = m.p;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n * sizeof(uint64_t), MADV_HUGEPAGE);  // a hint before the first touch, as the weight arena
#endif
    auto* buf = static_cast<uint64_t*>(p);
    for (size_t i = 0; i < n; ++i) buf[i] = i;  // distinct pages (no host page merging)
    const uint64_t expected = static_cast<uint64_t>(n) * (n - 1) / 2;  // mod 2^64, as sum_u64
    double best = 0.0;
    for (int rep = 0; rep <= reps; ++rep) {
        std::vector<uint64_t> part(static_cast<size_t>(threads));
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t)
            ts.emplace_back([&, t] {
                const size_t b = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
                const size_t e = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
                part[static_cast<size_t>(t)] = cpu::sum_u64(buf + b, static_cast<int64_t>(e - b));
            });
        for (auto& th : ts) th.join();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        uint64_t total = 0;
        for (uint64_t v : part) total += v;
        if (total != expected) throw Error("measure_read_bandwidth: the check sum is wrong");
        if (rep > 0) best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / s / 1e9);
    }
    return best;
}

}  // namespace bonsai
