// The desktop app's local-server switch: a real `bonsai-cli serve` child process answering over loopback.
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QtTest>

#include "core/local_server_process.h"
#include "test_paths.h"

using bonsai::core::LocalServerProcess;

class TestLocalServerProcess : public QObject {
    Q_OBJECT
private slots:
    void servesAndStops() {
        LocalServerProcess server(QString::fromStdString(bonsai::test::cli()));
        QVERIFY(!server.running());
        server.start(QString::fromStdString(bonsai::test::fixtures("models/qwen3-e256-F32.gguf")), 0);
        QTRY_VERIFY_WITH_TIMEOUT(server.running(), 20000);
        QVERIFY(server.status().contains(QStringLiteral("http://127.0.0.1:%1/v1").arg(server.port())));

        QNetworkAccessManager nam;
        QNetworkReply* r = nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/v1/models").arg(server.port()))));
        QSignalSpy done(r, &QNetworkReply::finished);
        QVERIFY(done.wait(10000));
        QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QVERIFY(r->readAll().contains("qwen3-e256-F32"));
        r->deleteLater();

        server.stop();
        QVERIFY(!server.running());
        QCOMPARE(server.status(), QStringLiteral("Stopped"));
    }
    void badModelIsReported() {
        LocalServerProcess server(QString::fromStdString(bonsai::test::cli()));
        server.start(QStringLiteral("/nonexistent/model.gguf"), 0);
        QTRY_VERIFY_WITH_TIMEOUT(server.status().contains(QStringLiteral("stopped (exit 1)")), 20000);
        QVERIFY(!server.running());
    }
    void noModelNoStart() {
        LocalServerProcess server(QString::fromStdString(bonsai::test::cli()));
        server.start(QString(), 0);
        QVERIFY(server.status().contains(QStringLiteral("Load a local model first")));
    }
};

QTEST_GUILESS_MAIN(TestLocalServerProcess)
#include "test_local_server_process.moc"
