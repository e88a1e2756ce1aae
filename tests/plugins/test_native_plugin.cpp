// Native plugins: a Qt plugin library implementing BonsaiPluginInterface, loaded with QPluginLoader from a
// plugin folder, reaches the same API (permissions included) and is disabled when it throws.
#include <QSignalSpy>
#include <QtTest>

#include "plugin_test_util.h"

using namespace bonsai::plugins;

class TestNativePlugin : public QObject {
    Q_OBJECT

    // Copies the test plugin library into <root>/plugins/native with a manifest.
    static void install(const QString& root, const QString& permissions) {
        const QString folder = root + "/plugins/native";
        QDir().mkpath(folder);
        QVERIFY(QFile::copy(QStringLiteral(NATIVE_TEST_PLUGIN_PATH), folder + "/libnative.so"));
        QFile m(folder + "/plugin.json");
        QVERIFY(m.open(QIODevice::WriteOnly));
        m.write(QStringLiteral(R"({"id":"native","name":"Native","version":"1","apiVersion":1,"type":"native",
            "main":"libnative.so","permissions":[%1],
            "contributes":{"commands":[{"name":"hello"},{"name":"ask"},{"name":"throw"}],
                           "messageActions":[{"id":"count","title":"Count"}]}})").arg(permissions).toUtf8());
    }

private slots:
    void loadsAndRuns() {
        QTemporaryDir tmp;
        install(tmp.path(), "\"model\"");
        FakeHostServices app;
        app.reply = [](const CompletionRequest& r) { return "re:" + r.messages[0].content; };
        PluginHost host(&app, plugintest::options(tmp.path()));
        QCOMPARE(host.loadAll(), 1);
        QVERIFY(host.runCommand("native", "hello", "world"));
        QVERIFY(host.runCommand("native", "ask", "q"));
        QVERIFY(host.runMessageAction("native", "count", {"m1", "assistant", "12345"}));
        QVERIFY(host.waitForIdle("native", 10000));
        QVERIFY(host.plugin("native")->enabled);
        QCOMPARE(app.notifications(), QStringList{"native hello world"});
        QCOMPARE(app.inserted().size(), 1);
        QCOMPARE(app.inserted()[0].content, QStringLiteral("re:q"));
        QCOMPARE(app.composer(), QStringList{"5"});
    }

    void permissionEnforcedAndExceptionDisables() {
        QTemporaryDir tmp;
        install(tmp.path(), "");
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(host.runCommand("native", "ask", "q"));  // no "model": PluginError, plugin disabled
        QVERIFY(disabled.wait(10000));
        QVERIFY2(disabled.at(0).at(1).toString().contains("\"model\""), qPrintable(disabled.at(0).at(1).toString()));
        QVERIFY(app.requests().isEmpty());
    }

    void throwingPluginIsDisabled() {
        QTemporaryDir tmp;
        install(tmp.path(), "");
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(host.runCommand("native", "throw", QString()));
        QVERIFY(disabled.wait(10000));
        QVERIFY2(disabled.at(0).at(1).toString().contains("native failure"), qPrintable(disabled.at(0).at(1).toString()));
    }

    void wrongLibraryRejected() {
        QTemporaryDir tmp;
        const QString folder = tmp.path() + "/plugins/fake";
        QDir().mkpath(folder);
        QFile lib(folder + "/libfake.so");
        QVERIFY(lib.open(QIODevice::WriteOnly));
        lib.write("not an ELF file");
        lib.close();
        QFile m(folder + "/plugin.json");
        QVERIFY(m.open(QIODevice::WriteOnly));
        m.write(R"({"id":"fake","name":"Fake","version":"1","apiVersion":1,"type":"native","main":"libfake.so"})");
        m.close();
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(disabled.wait(10000));
        QVERIFY2(disabled.at(0).at(1).toString().contains("not a Qt plugin"), qPrintable(disabled.at(0).at(1).toString()));
    }
};

QTEST_GUILESS_MAIN(TestNativePlugin)
#include "test_native_plugin.moc"
