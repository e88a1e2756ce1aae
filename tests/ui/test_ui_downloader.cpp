// ModelDownloader against a real loopback HTTP server with Range support: a whole download with its
// SHA-256, resume after a cut connection, a server that ignores ranges, a SHA-256 mismatch, cancel and
// resume later, and the parsing of download sources.
#include <QCryptographicHash>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "model_downloader.h"
#include "range_http_server.h"

using bonsai::test::RangeHttpServer;
using bonsai::ui::ModelDownloader;

namespace {
QByteArray testBody() {
    QByteArray b;
    b.reserve(300000);
    for (int i = 0; i < 300000; ++i) b.append(char((i * 131 + i / 977) & 0xff));
    return b;
}
QString sha(const QByteArray& b) { return QString::fromLatin1(QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex()); }
QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
}  // namespace

class TestUiDownloader : public QObject {
    Q_OBJECT
private slots:
    void sourcesResolve() {
        QString err;
        QCOMPARE(ModelDownloader::resolveSource("prism-ml/Bonsai-8B-gguf/Bonsai-8B-Q1_0.gguf", &err).toString(),
                 QString("https://huggingface.co/prism-ml/Bonsai-8B-gguf/resolve/main/Bonsai-8B-Q1_0.gguf"));
        QCOMPARE(ModelDownloader::resolveSource("org/repo/sub/m.gguf", &err).toString(),
                 QString("https://huggingface.co/org/repo/resolve/main/sub/m.gguf"));
        QVERIFY(!ModelDownloader::resolveSource("org/repo", &err).isValid());
        QVERIFY(!ModelDownloader::resolveSource("org/../etc/x.gguf", &err).isValid());
        QVERIFY(!ModelDownloader::resolveSource("ftp://host/x.gguf", &err).isValid());
        QVERIFY(!err.isEmpty());
        QCOMPARE(ModelDownloader::fileNameOf(QUrl("http://h/a/b/model.gguf")), QString("model.gguf"));
    }

    void wholeDownloadWithChecksum() {
        const QByteArray body = testBody();
        RangeHttpServer server(body);
        QTemporaryDir dir;
        ModelDownloader d;
        QSignalSpy done(&d, &ModelDownloader::finished);
        QSignalSpy progress(&d, &ModelDownloader::progressChanged);
        const QString dest = dir.filePath("tiny.gguf");
        QVERIFY(d.start(server.url(), dest, sha(body)));
        QVERIFY(d.busy());
        QVERIFY(done.wait(10000));
        QCOMPARE(readAll(dest), body);
        QCOMPARE(d.sha256(), sha(body));
        QVERIFY(!QFile::exists(dest + ".part"));
        QVERIFY(progress.count() >= 2);
        QCOMPARE(d.received(), qint64(body.size()));
        QVERIFY(!d.busy());
    }

    void resumesAfterACutConnection() {
        const QByteArray body = testBody();
        RangeHttpServer server(body);
        server.cutAfterBytes = 100000;
        server.cutRequests = 1;
        QTemporaryDir dir;
        ModelDownloader d;
        QSignalSpy done(&d, &ModelDownloader::finished);
        QSignalSpy failed(&d, &ModelDownloader::failed);
        const QString dest = dir.filePath("tiny.gguf");
        QVERIFY(d.start(server.url(), dest, sha(body)));
        QVERIFY(done.wait(10000));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(readAll(dest), body);
        QVERIFY(server.rangeHeaders.size() >= 2);
        QCOMPARE(server.rangeHeaders.first(), QByteArray());
        QCOMPARE(server.rangeHeaders.last(), QByteArray("bytes=100000-"));
    }

    void serverIgnoringRangesStartsOver() {
        const QByteArray body = testBody();
        RangeHttpServer server(body);
        server.ignoreRanges = true;
        QTemporaryDir dir;
        const QString dest = dir.filePath("tiny.gguf");
        {
            QFile part(dest + ".part");  // a stale partial file from an earlier attempt
            QVERIFY(part.open(QIODevice::WriteOnly));
            part.write(QByteArray(5000, 'x'));
        }
        ModelDownloader d;
        QSignalSpy done(&d, &ModelDownloader::finished);
        QVERIFY(d.start(server.url(), dest));
        QVERIFY(done.wait(10000));
        QCOMPARE(server.rangeHeaders.value(0), QByteArray("bytes=5000-"));
        QCOMPARE(readAll(dest), body);
    }

    void checksumMismatchIsRefused() {
        const QByteArray body = testBody();
        RangeHttpServer server(body);
        QTemporaryDir dir;
        ModelDownloader d;
        QSignalSpy failed(&d, &ModelDownloader::failed);
        QSignalSpy done(&d, &ModelDownloader::finished);
        const QString dest = dir.filePath("tiny.gguf");
        QByteArray other = body;
        other[10] = char(other[10] ^ 1);
        QVERIFY(d.start(server.url(), dest, sha(other)));
        QVERIFY(failed.wait(10000));
        QCOMPARE(done.count(), 0);
        QVERIFY(d.error().contains("SHA-256"));
        QVERIFY(!QFile::exists(dest));
        QVERIFY(!QFile::exists(dest + ".part"));
        // A malformed expected digest is refused before anything is fetched.
        QVERIFY(!d.start(server.url(), dest, "abc"));
    }

    void cancelKeepsThePartForALaterResume() {
        const QByteArray body = testBody();
        RangeHttpServer server(body);
        server.chunkBytes = 16384;
        server.chunkDelayMs = 30;
        QTemporaryDir dir;
        ModelDownloader d;
        QSignalSpy cancelled(&d, &ModelDownloader::cancelled);
        QSignalSpy done(&d, &ModelDownloader::finished);
        const QString dest = dir.filePath("tiny.gguf");
        QVERIFY(d.start(server.url(), dest, sha(body)));
        QTRY_VERIFY_WITH_TIMEOUT(d.received() >= 32768, 10000);
        d.cancel();
        QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 1, 5000);
        QVERIFY(!d.busy());
        QCOMPARE(done.count(), 0);
        QVERIFY(!QFile::exists(dest));
        const qint64 partial = QFileInfo(dest + ".part").size();
        QVERIFY(partial > 0 && partial < body.size());
        // Starting again asks for the rest and completes to the right bytes.
        server.chunkBytes = 0;
        QVERIFY(d.start(server.url(), dest, sha(body)));
        QVERIFY(done.wait(10000));
        QCOMPARE(server.rangeHeaders.last(), QByteArray("bytes=" + QByteArray::number(partial) + "-"));
        QCOMPARE(readAll(dest), body);
    }
};

QTEST_GUILESS_MAIN(TestUiDownloader)
#include "test_ui_downloader.moc"
