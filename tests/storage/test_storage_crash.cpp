// Crash safety: storage_crash_child streams replies into one database and is killed with SIGKILL at a
// random moment, 200 times. After every kill the database must open, pass integrity checks (SQLite's and
// FTS5's), hold every message the child reported committed with at least the reported text, and show
// every unfinished reply as 'interrupted' (never 'streaming').
#include <sqlite3.h>

#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <map>
#include <set>

#include "bonsai/storage/database.h"
#include "bonsai/storage/history.h"

using namespace bonsai::storage;

namespace {

std::string tokens_text(int64_t n) {
    std::string s;
    for (int64_t k = 0; k < n; ++k) s += "t" + std::to_string(k) + " ";
    return s;
}

long long count(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return -1;
    long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

}  // namespace

class TestStorageCrash : public QObject {
    Q_OBJECT

private slots:
    void killedWriterLosesNothingCommitted() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("crash.sqlite3"));
        QRandomGenerator rng(20240501);  // fixed seed: a failure can be replayed
        int interrupted_seen = 0, finished_seen = 0, committed_checked = 0;
        const int trials = 200;
        for (int trial = 0; trial < trials; ++trial) {
            QProcess child;
            child.start(QStringLiteral(STORAGE_CRASH_CHILD), {path, QString::number(rng.generate())});
            QVERIFY2(child.waitForStarted(10000), "child did not start");
            // Wait for the child's first commit, then let it run 0-40 ms before the kill.
            QVERIFY2(child.waitForReadyRead(10000), qPrintable(QString::fromUtf8(child.readAllStandardError())));
            QThread::usleep(rng.bounded(40000));
            child.kill();  // SIGKILL
            QVERIFY(child.waitForFinished(10000));
            QCOMPARE(child.exitStatus(), QProcess::CrashExit);

            const QList<QByteArray> lines = child.readAllStandardOutput().split('\n');
            // The last element is an unfinished line (or empty): only whole lines were reported.
            std::map<int64_t, int64_t> reply_tokens;  // reply id -> tokens reported committed
            std::set<int64_t> finished, users;
            for (int i = 0; i + 1 < lines.size(); ++i) {
                const QList<QByteArray> f = lines[i].split(' ');
                const int64_t id = f.value(1).toLongLong();
                if (f[0] == "M") users.insert(id);
                if (f[0] == "R") reply_tokens[id] = 0;
                if (f[0] == "A") reply_tokens[id] = f.value(2).toLongLong();
                if (f[0] == "F") {
                    finished.insert(id);
                    reply_tokens[id] = f.value(2).toLongLong();
                }
            }

            Database db(path.toStdString());
            QCOMPARE(QString::fromStdString(db.integrity_check()), QStringLiteral("ok"));
            db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
            QCOMPARE(count(db.handle(), "SELECT count(*) FROM messages WHERE status = 'streaming'"), 0LL);
            History h(db);
            for (int64_t id : users) {
                Message m = h.message(id);  // throws (fails the test) when a committed message is missing
                QCOMPARE(m.role, Role::user);
                QCOMPARE(m.status, MessageStatus::complete);
                ++committed_checked;
            }
            for (const auto& [id, n] : reply_tokens) {
                Message m = h.message(id);
                QVERIFY2(m.completion_tokens >= n, qPrintable(QStringLiteral("reply %1 lost committed tokens").arg(id)));
                QCOMPARE(m.content, tokens_text(m.completion_tokens));  // text and count committed together
                if (finished.count(id)) {
                    QCOMPARE(m.status, MessageStatus::complete);
                    QCOMPARE(m.prompt_tokens, int64_t(3));
                    ++finished_seen;
                } else {
                    // Killed mid-reply: interrupted; or killed after finish() committed but before it was reported.
                    QVERIFY(m.status == MessageStatus::interrupted || m.status == MessageStatus::complete);
                    interrupted_seen += m.status == MessageStatus::interrupted;
                }
                ++committed_checked;
            }
        }
        qInfo("%d trials: %d committed messages checked, %d replies finished, %d interrupted", trials,
              committed_checked, finished_seen, interrupted_seen);
        QVERIFY(interrupted_seen > 0);
        QVERIFY(finished_seen > 0);
    }
};

QTEST_GUILESS_MAIN(TestStorageCrash)
#include "test_storage_crash.moc"
