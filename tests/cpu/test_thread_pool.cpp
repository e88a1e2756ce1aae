// ThreadPool (engine/backend/cpu/thread_pool.h): every item of a job runs exactly once, for one-chunk-per-
// thread, claimed-grain (each thread's first chunk taken without the counter) and guided jobs, with item
// counts below, at and above the thread count and not multiples of the grain; an exception thrown by one
// chunk reaches the caller and the pool stays usable; 1 000 short jobs in a row finish.
#include <QtTest>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/cpu/thread_pool.h"

using namespace bonsai;

class TestThreadPool : public QObject {
    Q_OBJECT
private slots:
    void everyItemOnce() {
        for (int threads : {1, 2, 3, 5}) {
            cpu::ThreadPool pool(threads);
            for (int64_t n : {1, 2, 3, 7, 64, 1000, 4099}) {
                for (int mode = 0; mode < 5; ++mode) {  // grain 0, 1, 3, 64; guided by 32
                    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                    std::atomic<int> bad{0};  // chunks outside [0, n) (QVERIFY is for the test's own thread)
                    auto fn = [&](int64_t b, int64_t e) {
                        if (!(0 <= b && b < e && e <= n)) {
                            bad.fetch_add(1);
                            return;
                        }
                        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
                    };
                    if (mode == 4) pool.parallel_for_guided(n, fn, 32);
                    else pool.parallel_for(n, fn, mode == 0 ? 0 : mode == 1 ? 1 : mode == 2 ? 3 : 64);
                    QCOMPARE(bad.load(), 0);
                    for (int64_t i = 0; i < n; ++i)
                        QVERIFY2(hits[static_cast<size_t>(i)].load() == 1,
                                 qPrintable(QString("threads %1 n %2 mode %3 item %4: %5 runs")
                                                .arg(threads).arg(n).arg(mode).arg(i).arg(hits[static_cast<size_t>(i)].load())));
                }
            }
        }
    }

    void exceptionReachesCaller() {
        cpu::ThreadPool pool(3);
        for (int64_t grain : {0, 1, 4}) {
            bool thrown = false;
            try {
                pool.parallel_for(40, [&](int64_t b, int64_t e) {
                    if (b <= 17 && 17 < e) throw std::runtime_error("chunk with item 17");
                }, grain);
            } catch (const std::runtime_error& e) {
                thrown = std::string(e.what()) == "chunk with item 17";
            }
            QVERIFY(thrown);
            std::atomic<int64_t> sum{0};  // still usable afterwards
            pool.parallel_for(100, [&](int64_t b, int64_t e) { sum.fetch_add(e - b); }, grain);
            QCOMPARE(sum.load(), int64_t{100});
        }
    }

    void manyShortJobs() {
        cpu::ThreadPool pool(2);
        std::atomic<int64_t> sum{0};
        for (int j = 0; j < 1000; ++j) pool.parallel_for(8, [&](int64_t b, int64_t e) { sum.fetch_add(e - b); }, 1);
        QCOMPARE(sum.load(), int64_t{8000});
    }
};

QTEST_GUILESS_MAIN(TestThreadPool)
#include "test_thread_pool.moc"
