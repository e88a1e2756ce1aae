// Allocation bound of the GGUF reader, measured from outside: every fixture GGUF (models, vocab,
// dequant), every GGUF seed of the fuzz corpus and every GGUF regression file is opened in a child
// process (gguf_rlimit_child) whose address space is capped at its size before the open + the file's
// size (the reader maps the file) + 64 MiB. A reader that allocated by an unchecked count, or copied the
// file, would hit the cap (exit 3). Cross-checks test_gguf_alloc's in-process operator-new count.
//
// Skipped under AddressSanitizer, which reserves terabytes of address space up front.
#include <QDir>
#include <QProcess>
#include <QtTest>

#if defined(__SANITIZE_ADDRESS__)
#define BONSAI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BONSAI_ASAN 1
#endif
#endif

#include "test_paths.h"

namespace {

constexpr int kSlackMiB = 64;

struct ChildResult {
    int exitCode = -1;
    bool crashed = false;
    QString output;
};

ChildResult runChild(const QString& mode, const QString& file) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(GGUF_RLIMIT_CHILD), {mode, file, QString::number(kSlackMiB)});
    ChildResult r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        r.output = QStringLiteral("timed out");
        return r;
    }
    r.exitCode = p.exitCode();
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.output = QString::fromUtf8(p.readAll()).trimmed();
    return r;
}

QStringList ggufFiles(const QString& dir) {
    QStringList out;
    const QDir d(dir);
    for (const QString& name : d.entryList({QStringLiteral("*.gguf")}, QDir::Files, QDir::Name)) out << d.filePath(name);
    return out;
}

}  // namespace

class TestGgufRlimit : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
#ifdef BONSAI_ASAN
        QSKIP("RLIMIT_AS cannot be used under AddressSanitizer");
#endif
    }

    // The cap bites: allocating the file size + 2 x 64 MiB under it fails.
    void capIsEnforced() {
        const QString file = QString::fromStdString(bonsai::test::fixtures("dequant/Q8_0.gguf"));
        const ChildResult r = runChild(QStringLiteral("control"), file);
        QVERIFY2(!r.crashed, qPrintable(r.output));
        QCOMPARE(r.exitCode, 3);
    }

    // Every real fixture opens within the bound and is accepted.
    void fixturesWithinBound() {
        int n = 0;
        for (const char* dir : {"models", "vocab", "dequant"}) {
            for (const QString& file : ggufFiles(QString::fromStdString(bonsai::test::fixtures(dir)))) {
                const ChildResult r = runChild(QStringLiteral("open"), file);
                QVERIFY2(!r.crashed && r.exitCode == 0, qPrintable(file + QStringLiteral(": exit %1: ").arg(r.exitCode) + r.output));
                QVERIFY2(r.output.endsWith(QLatin1String("accepted")), qPrintable(file + QStringLiteral(": ") + r.output));
                ++n;
            }
        }
        QVERIFY(n >= 20);  // 16 models + 4 vocabs + the dequant files
    }

    // Fuzz seeds and regression files (valid or not) stay within the bound too.
    void fuzzFilesWithinBound() {
        QStringList files = ggufFiles(QStringLiteral(BONSAI_FUZZ_DIR "/corpus/gguf"));
        QVERIFY(!files.isEmpty());
        const QDir reg(QStringLiteral(BONSAI_FUZZ_DIR "/regressions/gguf"));
        for (const QString& name : reg.entryList(QDir::Files, QDir::Name))
            if (name != QLatin1String("README.md")) files << reg.filePath(name);
        for (const QString& file : files) {
            const ChildResult r = runChild(QStringLiteral("open"), file);
            QVERIFY2(!r.crashed && r.exitCode == 0, qPrintable(file + QStringLiteral(": exit %1: ").arg(r.exitCode) + r.output));
        }
    }
};

QTEST_GUILESS_MAIN(TestGgufRlimit)
#include "test_gguf_rlimit.moc"
