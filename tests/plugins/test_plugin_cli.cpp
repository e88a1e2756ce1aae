// bonsai-cli plugin list / run, through the built binary: listing, a dry run printing the prompt, a run on
// the tiny random fixture model (only: it runs and prints something), and the error exits.
#include <QProcess>
#include <QtTest>

#include "plugin_test_util.h"
#include "test_paths.h"

class TestPluginCli : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

    struct Result {
        int code = -1;
        QString out, err;
    };

    Result cli(const QStringList& args) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("XDG_CONFIG_HOME", tmp_.path() + "/config");
        env.insert("XDG_DATA_HOME", tmp_.path() + "/data");
        env.remove("BONSAI_CONFIG_DIR");
        env.remove("BONSAI_DATA_DIR");
        p.setProcessEnvironment(env);
        p.start(QString::fromStdString(bonsai::test::cli()), QStringList{"plugin"} + args);
        if (!p.waitForFinished(120000)) return {};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
    }

    static QString builtin() { return QString::fromStdString(bonsai::test::source("plugins/builtin")); }

private slots:
    void listShowsPluginsAndSkippedFolders() {
        const QString dir = tmp_.path() + "/extra";
        plugintest::writePlugin(dir, {"extra", {"clipboard"}, {"go"}, {}, ""});
        QDir().mkpath(dir + "/bad");
        QFile f(dir + "/bad/plugin.json");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"id\": 7}");
        f.close();
        const Result r = cli({"list", "--plugin-dir", builtin(), "--plugin-dir", dir});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("org.bonsai.translate  Translate") && r.out.contains("org.bonsai.codehelp  Code help"), qPrintable(r.out));
        QVERIFY(r.out.contains("/translate") && r.out.contains("action translate-to"));
        QVERIFY(r.out.contains("extra  Test extra") && r.out.contains("permissions: clipboard"));
        QVERIFY2(r.err.contains("skipped") && r.err.contains("'id' must be a string"), qPrintable(r.err));
    }

    void dryRunPrintsThePrompt() {
        const Result r = cli({"run", "org.bonsai.translate", "translate", "to", "de", "Good morning, the report is in `main()`.",
                              "--dry-run", "--plugin-dir", builtin()});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("[system]") && r.out.contains("from English to German."), qPrintable(r.out));
        QVERIFY2(r.out.contains("[user]\nGood morning, the report is in \u27E60\u27E7."), qPrintable(r.out));
        QVERIFY2(r.err.contains("dry run"), qPrintable(r.err));
    }

    void messageActionDryRun() {
        const Result r = cli({"run", "org.bonsai.translate", "translate-to", "Wo ist der Bahnhof? Ich habe den Zug verpasst.",
                              "--argument", "fr", "--dry-run", "--plugin-dir", builtin()});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("from German to French."), qPrintable(r.out));
    }

    void runsWithTheFixtureModel() {
        const QString model = QString::fromStdString(bonsai::test::fixtures("models/qwen3-e256-F32.gguf"));
        const Result r = cli({"run", "org.bonsai.codehelp", "explain", "def f(x):\n    return x * 2", "-m", model,
                              "--max-tokens", "8", "--plugin-dir", builtin()});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        // A random model: only that an answer was inserted (printed to stdout) and nothing failed.
        QVERIFY2(!r.out.isEmpty(), qPrintable(r.err));
        QVERIFY2(!r.err.contains("disabled") && !r.err.contains("failed"), qPrintable(r.err));
    }

    void errors() {
        Result r = cli({"run", "org.bonsai.translate", "nosuch", "--dry-run", "--plugin-dir", builtin()});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("no command or message action 'nosuch'"), qPrintable(r.err));
        r = cli({"run", "org.nobody.none", "x", "--dry-run", "--plugin-dir", builtin()});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("no plugin 'org.nobody.none'"), qPrintable(r.err));
        r = cli({"frobnicate"});
        QCOMPARE(r.code, 2);
        // A plugin that throws: reported, exit status 1.
        const QString dir = tmp_.path() + "/failing";
        plugintest::writePlugin(dir, {"failing", {}, {"boom"}, {}, "bonsai.registerCommand('boom', function () { throw new Error('kaputt'); });"});
        r = cli({"run", "failing", "/boom", "--dry-run", "--plugin-dir", dir});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("was disabled") && r.err.contains("kaputt"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestPluginCli)
#include "test_plugin_cli.moc"
