// Allocation bound of the GGUF reader, measured for real: this executable replaces the global
// operator new/delete with counting versions (live bytes and the peak while a parse runs). Parsing any
// corpus file (valid, malformed, truncated, corrupted, hostile counts, and every real fixture) must never
// have more than file size + 64 KiB allocated at once.
#include <QDir>
#include <QtTest>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <new>

#include "bonsai/error.h"
#include "bonsai/gguf.h"
#include "corpus.h"
#include "test_paths.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};

// Every block carries a 32-byte header just below the pointer we hand out:
// [raw pointer from malloc][size][counted flag]. Blocks allocated before counting started are not
// subtracted when freed during counting, so the live figure only covers the parse.
constexpr size_t kHeader = 32;

void* counted_alloc(size_t n, size_t align) {
    const size_t header = align > kHeader ? align : kHeader;
    void* raw = nullptr;
    if (align > alignof(std::max_align_t)) {
        if (posix_memalign(&raw, header, header + n) != 0) raw = nullptr;
    } else {
        raw = std::malloc(header + n);
    }
    if (!raw) return nullptr;
    char* p = static_cast<char*>(raw) + header;
    auto* h = reinterpret_cast<uintptr_t*>(p - kHeader);
    const bool counted = g_counting.load(std::memory_order_relaxed);
    h[0] = reinterpret_cast<uintptr_t>(raw);
    h[1] = n;
    h[2] = counted ? 1 : 0;
    if (counted) {
        const int64_t live = g_live.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
        int64_t peak = g_peak.load();
        while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
        }
    }
    return p;
}

void counted_free(void* p) noexcept {
    if (!p) return;
    auto* h = reinterpret_cast<uintptr_t*>(static_cast<char*>(p) - kHeader);
    if (h[2]) g_live.fetch_sub(static_cast<int64_t>(h[1]));
    std::free(reinterpret_cast<void*>(h[0]));
}

void* must_alloc(size_t n, size_t align) {
    void* p = counted_alloc(n, align);
    if (!p) throw std::bad_alloc();
    return p;
}

// Peak bytes allocated while parsing `bytes` (the buffer itself was allocated before counting).
int64_t parse_peak(const std::vector<uint8_t>& bytes, bool* accepted = nullptr) {
    g_live = 0;
    g_peak = 0;
    g_counting = true;
    bool ok = false;
    try {
        auto f = bonsai::gguf::GgufFile::from_memory(bytes.data(), bytes.size(), "alloc.gguf");
        ok = true;
    } catch (const bonsai::Error&) {
    }
    g_counting = false;
    if (accepted) *accepted = ok;
    return g_peak.load();
}

std::vector<uint8_t> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

constexpr int64_t kSlack = 64 * 1024;

}  // namespace

void* operator new(size_t n) { return must_alloc(n, 0); }
void* operator new[](size_t n) { return must_alloc(n, 0); }
void* operator new(size_t n, std::align_val_t a) { return must_alloc(n, static_cast<size_t>(a)); }
void* operator new[](size_t n, std::align_val_t a) { return must_alloc(n, static_cast<size_t>(a)); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

class TestGgufAlloc : public QObject {
    Q_OBJECT

    static void check(const std::string& what, const std::vector<uint8_t>& bytes) {
        const int64_t peak = parse_peak(bytes);
        const int64_t limit = static_cast<int64_t>(bytes.size()) + kSlack;
        QVERIFY2(peak <= limit, qPrintable(QString::fromStdString(what) + QString(": peak %1 bytes > limit %2").arg(peak).arg(limit)));
    }

private slots:
    void counterReallyMeasures() {
        g_live = 0;
        g_peak = 0;
        g_counting = true;
        {
            std::vector<char> big(1 << 20);
            QVERIFY(big.size() == (1u << 20));
        }
        g_counting = false;
        QVERIFY(g_peak.load() >= (1 << 20));
        QCOMPARE(g_live.load(), int64_t(0));
        // A valid parse allocates something (records, names), so the hooks see the reader too.
        bool ok = false;
        QVERIFY(parse_peak(corpus::valid_file(), &ok) > 0);
        QVERIFY(ok);
    }

    void malformedCorpusStaysWithinBound() {
        for (const auto& c : corpus::malformed_cases()) check(c.name, c.bytes);
    }

    void prefixesAndCorruptionsStayWithinBound() {
        const auto full = corpus::valid_file();
        for (size_t n = 0; n <= full.size(); ++n) check("prefix " + std::to_string(n), std::vector<uint8_t>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)));
        for (size_t i = 0; i < full.size(); ++i) {
            auto b = full;
            b[i] ^= 0xff;
            check("flip " + std::to_string(i), b);
        }
    }

    void hostileCountsStayWithinBound() {
        // 20000 one-character keys of UINT8: each record is 14 bytes of file but a KeyValue is far
        // bigger, so the reader must refuse before reserving them.
        std::vector<uint8_t> f = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
        auto put64 = [&](uint64_t v) { for (int i = 0; i < 8; ++i) f.push_back(static_cast<uint8_t>(v >> (8 * i))); };
        put64(0);
        put64(20000);
        for (int i = 0; i < 20000; ++i) {
            put64(1);
            f.push_back(static_cast<uint8_t>('a' + i % 26));
            f.insert(f.end(), {0, 0, 0, 0, 7});
        }
        check("20000 tiny keys", f);
        bool ok = true;
        parse_peak(f, &ok);
        QVERIFY(!ok);
        // A string array claiming 2^29 elements in a tiny file.
        auto g = corpus::valid_file();
        corpus::poke<uint64_t>(g, corpus::after_string(g, "test.words") + 8, 1ull << 29);
        check("huge string array", g);
    }

    void realFixturesStayWithinBound() {
        for (const char* dir : {"models", "vocab", "dequant"}) {
            const QDir d(QString::fromStdString(bonsai::test::fixtures(dir)));
            for (const QString& name : d.entryList({"*.gguf"}, QDir::Files)) {
                const auto bytes = read_all(d.filePath(name).toStdString());
                bool ok = false;
                const int64_t peak = parse_peak(bytes, &ok);
                QVERIFY2(ok, qPrintable(name));
                QVERIFY2(peak <= static_cast<int64_t>(bytes.size()) + kSlack, qPrintable(name + QString(": peak %1").arg(peak)));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestGgufAlloc)
#include "test_gguf_alloc.moc"
