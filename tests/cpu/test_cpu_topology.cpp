// The CPU backend's default thread count (engine/backend/cpu/cpu_topology.h): physical cores counted from
// a fake sysfs tree (SMT pairs, ranges, an affinity subset, missing and malformed files), and the real
// machine's answer bounded by the CPUs this process may use.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

#include "backend/cpu/cpu_topology.h"

using namespace bonsai;

namespace {

// Writes cpu<c>/topology/<file> = text under dir.
void put(const QTemporaryDir& dir, int c, const char* file, const std::string& text) {
    const QString d = dir.path() + QString("/cpu%1/topology").arg(c);
    QVERIFY(QDir().mkpath(d));
    std::ofstream(d.toStdString() + "/" + file) << text;
}

}  // namespace

class TestCpuTopology : public QObject {
    Q_OBJECT
private slots:
    // 4 CPUs, hyperthread pairs (0, 2) and (1, 3) as older kernels list them (thread_siblings_list).
    void smtPairs() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (int c : {0, 2}) put(dir, c, "thread_siblings_list", "0,2\n");
        for (int c : {1, 3}) put(dir, c, "thread_siblings_list", "1,3\n");
        const std::string root = dir.path().toStdString();
        QCOMPARE(cpu::count_physical_cores(root, {0, 1, 2, 3}), 2);
        QCOMPARE(cpu::count_physical_cores(root, {0, 2}), 1);  // taskset to one core's two threads
        QCOMPARE(cpu::count_physical_cores(root, {0, 1}), 2);
        QCOMPARE(cpu::count_physical_cores(root, {3}), 1);
    }

    // core_cpus_list (Linux 5.7+) with ranges; it wins over a thread_siblings_list that disagrees.
    void coreCpusListRanges() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (int c = 0; c < 8; ++c) {
            put(dir, c, "core_cpus_list", c < 4 ? "0-3\n" : "4-5,6-7\n");
            put(dir, c, "thread_siblings_list", std::to_string(c) + "\n");
        }
        const std::string root = dir.path().toStdString();
        QCOMPARE(cpu::count_physical_cores(root, {0, 1, 2, 3, 4, 5, 6, 7}), 2);
        QCOMPARE(cpu::count_physical_cores(root, {5, 7}), 1);
    }

    // No SMT (each CPU its own core, as on this CI machine's kind).
    void noSmt() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (int c = 0; c < 3; ++c) put(dir, c, "core_cpus_list", std::to_string(c));
        QCOMPARE(cpu::count_physical_cores(dir.path().toStdString(), {0, 1, 2}), 3);
    }

    // What cannot be read counts each allowed CPU as a core; never less than 1.
    void unreadableTopology() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string root = dir.path().toStdString();
        QCOMPARE(cpu::count_physical_cores(root, {0, 1, 2, 3}), 4);  // no files at all
        put(dir, 0, "core_cpus_list", "0-1\n");
        QCOMPARE(cpu::count_physical_cores(root, {0, 1}), 2);  // cpu1's list missing
        for (const char* bad : {"", "x", "3-1", "-1", "1,,2x", "99999999", "1-"}) {
            put(dir, 1, "core_cpus_list", bad);
            QCOMPARE(cpu::count_physical_cores(root, {0, 1}), 2);
        }
        QCOMPARE(cpu::count_physical_cores(root, {}), 1);
        QCOMPARE(cpu::count_physical_cores(root + "/does-not-exist", {0, 1, 2}), 3);
    }

    // This machine: at least 1, at most the CPUs the process may run on.
    void thisMachine() {
        const int n = cpu::default_thread_count();
        int allowed = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#if defined(__linux__)
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof set, &set) == 0) allowed = CPU_COUNT(&set);
#endif
        QVERIFY2(n >= 1 && n <= allowed, qPrintable(QString("%1 threads for %2 allowed CPUs").arg(n).arg(allowed)));
        QCOMPARE(cpu::default_thread_count(), n);  // computed once
    }
};

QTEST_GUILESS_MAIN(TestCpuTopology)
#include "test_cpu_topology.moc"
