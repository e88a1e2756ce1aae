// bonsai-cli's own surface: --version, --help, exit codes for unknown commands and bad options.
#include <QProcess>
#include <QtTest>

#include "test_paths.h"

class TestCliBasics : public QObject {
    Q_OBJECT

    struct Result {
        int code;
        QString out;
        QString err;
    };

    static Result run(const QStringList& args) {
        QProcess p;
        p.start(QString::fromStdString(bonsai::test::cli()), args);
        if (!p.waitForFinished(30000)) return {-1, {}, QStringLiteral("timeout")};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
    }

private slots:
    void versionPrintsProjectVersion() {
        const Result r = run({QStringLiteral("--version")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out.trimmed(), QStringLiteral("bonsai-cli " BONSAI_VERSION));
    }
    void helpListsUsageAndExitsZero() {
        const Result r = run({QStringLiteral("--help")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains(QStringLiteral("usage: bonsai-cli")));
        QVERIFY(r.out.contains(QStringLiteral("commands:")));
    }
    void noArgumentsIsUsageError() {
        const Result r = run({});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains(QStringLiteral("usage:")));
    }
    void unknownCommandExitsTwoWithMessage() {
        const Result r = run({QStringLiteral("frobnicate")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(QStringLiteral("unknown command 'frobnicate'")), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliBasics)
#include "test_cli_basics.moc"
