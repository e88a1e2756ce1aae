// bonsai-cli history and context end to end through QProcess: context add/list/search/remove, history
// export/import round trip (JSON and Markdown), and error exits.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "bonsai/storage/database.h"
#include "bonsai/storage/history.h"
#include "test_paths.h"

using namespace bonsai::storage;

class TestStorageCli : public QObject {
    Q_OBJECT

    struct Result {
        int code;
        QString out;
        QString err;
    };

    QTemporaryDir dir_;

    static Result run(const QStringList& args) {
        QProcess p;
        p.start(QString::fromStdString(bonsai::test::cli()), args);
        if (!p.waitForFinished(60000)) return {-1, {}, QStringLiteral("timeout")};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
    }

private slots:
    void contextAddListSearchRemove() {
        const QString db = dir_.filePath(QStringLiteral("ctx.sqlite3"));
        const QString doc = dir_.filePath(QStringLiteral("garden.txt"));
        QFile f(doc);
        QVERIFY(f.open(QIODevice::WriteOnly));
        for (int i = 0; i < 30; ++i) f.write(QStringLiteral("Row %1 of the garden: tomatoes need water daily.\n\n").arg(i).toUtf8());
        f.close();

        Result a = run({"context", "add", "--db", db, "--title", "Boots", "--text", "My boots are size 43.", "--kind",
                        "fact", "--tags", "outdoor, gear"});
        QVERIFY2(a.code == 0, qPrintable(a.err));
        QVERIFY(a.out.startsWith(QStringLiteral("added context item 1")));
        Result b = run({"context", "add", "--db", db, "--title", "Garden", "--file", doc});
        QVERIFY2(b.code == 0, qPrintable(b.err));

        Result l = run({"context", "list", "--db", db});
        QCOMPARE(l.code, 0);
        const QStringList rows = l.out.trimmed().split('\n');
        QCOMPARE(rows.size(), 2);
        QVERIFY(rows.join('\n').contains(QStringLiteral("1\tfact\tBoots\toutdoor,gear\t1 chunk(s)\tlocal-only")));
        QVERIFY(rows.join('\n').contains(QStringLiteral("2\tdocument\tGarden\t-\t")));

        Result s = run({"context", "search", "--db", db, "tomatoes"});
        QCOMPARE(s.code, 0);
        QVERIFY2(s.out.startsWith(QStringLiteral("2\t")) && s.out.contains(QStringLiteral("[tomatoes]")), qPrintable(s.out));
        Result s2 = run({"context", "search", "--db", db, "what", "size", "boots"});
        QVERIFY(s2.out.startsWith(QStringLiteral("1\t")));

        QCOMPARE(run({"context", "remove", "--db", db, "1"}).code, 0);
        Result again = run({"context", "remove", "--db", db, "1"});
        QCOMPARE(again.code, 1);
        QVERIFY(again.err.contains(QStringLiteral("no context item with id 1")));
        QCOMPARE(run({"context", "search", "--db", db, "boots"}).out, QString());

        QCOMPARE(run({"context", "add", "--db", db, "--title", "x"}).code, 2);  // neither --text nor --file
        QCOMPARE(run({"context", "add", "--db", db, "--title", "x", "--text", "y", "--kind", "poem"}).code, 2);
        QCOMPARE(run({"context", "frobnicate", "--db", db}).code, 2);
    }

    void historyExportImportRoundTrip() {
        const QString src = dir_.filePath(QStringLiteral("src.sqlite3"));
        const QString dst = dir_.filePath(QStringLiteral("dst.sqlite3"));
        {
            Database db(src.toStdString());
            History h(db);
            int64_t c = h.create_conversation({"Hiking", Mode::local, "bonsai", ""});
            int64_t u = h.append_message(c, {Role::user, "Which trail near Gavarnie?", "", "", 0, 0, {}});
            h.append_message(c, {Role::assistant, "The cirque trail.", "local", "bonsai", 9, 4, {1, 2, 3}});
            h.add_message(c, u, {Role::assistant, "Try the Brèche de Roland.", "local", "bonsai", 9, 6, {1, 2, 3}});
            int64_t c2 = h.create_conversation({"Bread", Mode::cloud, "gpt", ""});
            h.append_message(c2, {Role::user, "Sourdough starter ratio?", "", "", 0, 0, {}});
        }
        Result list = run({"history", "list", "--db", src});
        QCOMPARE(list.code, 0);
        QCOMPARE(list.out.trimmed().split('\n').size(), 2);
        QVERIFY(list.out.contains(QStringLiteral("\t3 messages\tHiking")));

        Result show = run({"history", "show", "1", "--db", src});
        QCOMPARE(show.code, 0);
        QVERIFY(show.out.contains(QStringLiteral("# Hiking")) && show.out.contains(QStringLiteral("Brèche de Roland")));

        Result search = run({"history", "search", "--db", src, "sourdough"});
        QCOMPARE(search.code, 0);
        QVERIFY2(search.out.startsWith(QStringLiteral("2\t")) && search.out.contains(QStringLiteral("[Sourdough]")),
                 qPrintable(search.out));

        const QString json = dir_.filePath(QStringLiteral("all.json"));
        Result ex = run({"history", "export", "--db", src, "--format", "json", "-o", json});
        QVERIFY2(ex.code == 0, qPrintable(ex.err));
        const QString md = dir_.filePath(QStringLiteral("one.md"));
        QCOMPARE(run({"history", "export", "1", "--db", src, "--format", "md", "-o", md}).code, 0);
        QFile mdf(md);
        QVERIFY(mdf.open(QIODevice::ReadOnly));
        const QString mdText = QString::fromUtf8(mdf.readAll());
        QVERIFY(mdText.startsWith(QStringLiteral("# Hiking")) && !mdText.contains(QStringLiteral("Bread")));

        Result im = run({"history", "import", json, "--db", dst});
        QVERIFY2(im.code == 0, qPrintable(im.err));
        QVERIFY(im.out.contains(QStringLiteral("imported 2 conversation(s)")));
        {
            Database db(dst.toStdString());
            History h(db);
            auto convs = h.list_conversations();
            QCOMPARE(convs.size(), size_t(2));
            int64_t hiking = convs[0].title == "Hiking" ? convs[0].id : convs[1].id;
            QCOMPARE(h.messages(hiking).size(), size_t(3));
            QCOMPARE(h.children(hiking, h.active_path(hiking)[0].id).size(), size_t(2));  // the branch survived
            QCOMPARE(QString::fromStdString(h.active_path(hiking).back().content), QStringLiteral("Try the Brèche de Roland."));
        }

        // A foreign file is refused with exit 1 and a clear message; nothing is added.
        const QString bad = dir_.filePath(QStringLiteral("bad.json"));
        QFile bf(bad);
        QVERIFY(bf.open(QIODevice::WriteOnly));
        bf.write(R"({"format": "something-else", "version": 1, "conversations": []})");
        bf.close();
        Result refused = run({"history", "import", bad, "--db", dst});
        QCOMPARE(refused.code, 1);
        QVERIFY2(refused.err.contains(QStringLiteral("not a Bonsai conversation export")), qPrintable(refused.err));
        QCOMPARE(run({"history", "list", "--db", dst}).out.trimmed().split('\n').size(), 2);
        QCOMPARE(run({"history", "export", "--db", dst, "--format", "pdf"}).code, 2);
        QCOMPARE(run({"history", "show", "abc", "--db", dst}).code, 2);
    }

    void defaultDatabaseIsTheXdgProfile() {
        // The test runs with a private XDG_DATA_HOME (tests/CMakeLists.txt); use our own to be sure.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), dir_.filePath(QStringLiteral("xdg")));
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(QString::fromStdString(bonsai::test::cli()), {"context", "add", "--title", "T", "--text", "hello"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(QFile::exists(dir_.filePath(QStringLiteral("xdg/bonsai/profiles/default.sqlite3"))));
    }
};

QTEST_GUILESS_MAIN(TestStorageCli)
#include "test_storage_cli.moc"
