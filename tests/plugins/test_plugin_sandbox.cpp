// The plugin host's safety guarantees: time limit, exceptions, permissions, no file/network access,
// manifests refused without harming the host.
#include <QSignalSpy>
#include <QtTest>

#include "plugin_test_util.h"

using namespace bonsai::plugins;
using plugintest::PluginSpec;
using plugintest::writePlugin;

class TestPluginSandbox : public QObject {
    Q_OBJECT

    static constexpr int kWait = 10000;  // generous bound for asynchronous steps; never a timing assertion

    // A plugin that notifies "pong" on /ping: proves a host is still serving after another plugin failed.
    static PluginSpec healthy() {
        return {"healthy", {}, {"ping"}, {}, "bonsai.registerCommand('ping', function () { bonsai.notify('pong'); });"};
    }

private slots:
    void infiniteLoopIsInterruptedAndPluginDisabled() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"looper", {}, {"spin"}, {}, "bonsai.registerCommand('spin', function () { while (true) {} });"});
        writePlugin(tmp.path() + "/plugins", healthy());
        FakeHostServices app;
        // A 250 ms limit: the loop must be stopped well within a second.
        PluginHost host(&app, plugintest::options(tmp.path(), 250));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        QCOMPARE(host.loadAll(), 2);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(host.runCommand("looper", "spin", QString()));
        QVERIFY(disabled.wait(kWait));
        qInfo("infinite loop reported after %lld ms (limit 250 ms)", static_cast<long long>(clock.elapsed()));
        QCOMPARE(disabled.at(0).at(0).toString(), QStringLiteral("looper"));
        const QString msg = disabled.at(0).at(1).toString();
        QVERIFY2(msg.contains("/spin") && msg.contains("time limit of 250 ms"), qPrintable(msg));
        QVERIFY(!host.plugin("looper")->enabled);
        QString err;
        QVERIFY(!host.runCommand("looper", "spin", QString(), &err));
        QVERIFY2(err.contains("disabled"), qPrintable(err));
        // The host goes on serving other plugins.
        QVERIFY(host.runCommand("healthy", "ping", QString()));
        QVERIFY(host.waitForIdle("healthy", kWait));
        QCOMPARE(app.notifications(), QStringList{"pong"});
    }

    void infiniteLoopAtLoadTimeIsInterrupted() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"loadloop", {}, {}, {}, "for (;;) {}"});
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path(), 250));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(disabled.wait(kWait));
        QVERIFY2(disabled.at(0).at(1).toString().contains("loading ran longer"), qPrintable(disabled.at(0).at(1).toString()));
    }

    void exceptionDisablesPlugin() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"thrower", {}, {"boom"}, {},
                                              "bonsai.registerCommand('boom', function () {\n  null.foo();\n});"});
        writePlugin(tmp.path() + "/plugins", healthy());
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(host.runCommand("thrower", "boom", QString()));
        QVERIFY(disabled.wait(kWait));
        const QString msg = disabled.at(0).at(1).toString();
        // Readable: names the plugin, the command, the file and line, and the JavaScript error.
        QVERIFY2(msg.contains("Test thrower") && msg.contains("/boom") && msg.contains("main.js:2") && msg.contains("TypeError"),
                 qPrintable(msg));
        QVERIFY(!host.plugin("thrower")->enabled);
        QVERIFY(host.runCommand("healthy", "ping", QString()));
        QVERIFY(host.waitForIdle("healthy", kWait));
        QCOMPARE(app.notifications(), QStringList{"pong"});
    }

    void syntaxErrorAndImportFailLoading() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"importer", {}, {}, {}, "import x from './other.js';\n"});
        writePlugin(tmp.path() + "/plugins", {"dynimport", {}, {}, {}, "import('/etc/passwd');\n"});
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(host.waitForIdle("importer", kWait));
        QVERIFY(host.waitForIdle("dynimport", kWait));
        QCOMPARE(disabled.size(), 2);
        for (const auto& args : disabled) QVERIFY2(args.at(1).toString().contains("SyntaxError"), qPrintable(args.at(1).toString()));
    }

    void undeclaredPermissionThrowsNamingIt() {
        QTemporaryDir tmp;
        // Each call is caught so every one is tried; the messages are reported through notify.
        writePlugin(tmp.path() + "/plugins", {"noperm", {}, {"try"}, {}, R"JS(
            function attempt(f) { try { f(); bonsai.notify('allowed'); } catch (e) { bonsai.notify(String(e)); } }
            bonsai.registerCommand('try', function () {
                attempt(function () { bonsai.complete('hi', {}); });
                attempt(function () { bonsai.conversation(); });
                attempt(function () { bonsai.selectedMessage(); });
                attempt(function () { bonsai.clipboard.read(); });
                attempt(function () { bonsai.clipboard.write('x'); });
                attempt(function () { bonsai.context.search('q'); });
            });)JS"});
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        host.loadAll();
        QVERIFY(host.runCommand("noperm", "try", QString()));
        QVERIFY(host.waitForIdle("noperm", kWait));
        const QStringList n = app.notifications();
        QCOMPARE(n.size(), 6);
        const QStringList expected{"\"model\"", "\"conversation.read\"", "\"conversation.read\"", "\"clipboard\"", "\"clipboard\"", "\"context.read\""};
        for (int i = 0; i < 6; ++i) {
            QVERIFY2(n[i].startsWith("Error:") && n[i].contains(expected[i]) && n[i].contains("does not declare"), qPrintable(n[i]));
        }
        QVERIFY(app.requests().isEmpty());
        QVERIFY(app.contextQueries().isEmpty());
        QVERIFY(host.plugin("noperm")->enabled);  // caught: the plugin goes on
    }

    void uncaughtPermissionErrorDisables() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"greedy", {"model"}, {"go"}, {}, "bonsai.registerCommand('go', function () { bonsai.clipboard.read(); });"});
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(host.runCommand("greedy", "go", QString()));
        QVERIFY(disabled.wait(kWait));
        QVERIFY2(disabled.at(0).at(1).toString().contains("\"clipboard\""), qPrintable(disabled.at(0).at(1).toString()));
    }

    void grantedPermissionsWork() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"granted", {"conversation.read", "clipboard", "context.read"}, {"go"}, {}, R"JS(
            bonsai.registerCommand('go', function (args) {
                var c = bonsai.conversation();
                bonsai.clipboard.write(c.length + ':' + c[1].content + ':' + bonsai.selectedMessage().id);
                var hits = bonsai.context.search(args, 3);
                bonsai.fillComposer(bonsai.clipboard.read() + '|' + hits[0].title);
            });)JS"});
        FakeHostServices app;
        app.conversationMessages = {{"m1", "user", "hello"}, {"m2", "assistant", "hi there"}};
        app.selected = {"m2", "assistant", "hi there"};
        app.hits = {{"notes.md", "the text", 1.0}};
        PluginHost host(&app, plugintest::options(tmp.path()));
        host.loadAll();
        QVERIFY(host.runCommand("granted", "go", "my query"));
        QVERIFY(host.waitForIdle("granted", kWait));
        QCOMPARE(app.composer(), QStringList{"2:hi there:m2|notes.md"});
        QCOMPARE(app.contextQueries(), QStringList{"my query"});
    }

    void contextReadRefusedInCloudMode() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"ctx", {"context.read"}, {"go"}, {}, R"JS(
            bonsai.registerCommand('go', function () {
                try { bonsai.context.search('secret', 3); bonsai.notify('searched'); }
                catch (e) { bonsai.notify(String(e)); }
            });)JS"});
        FakeHostServices app;
        app.cloud = true;
        app.hits = {{"diary", "private", 1.0}};
        PluginHost host(&app, plugintest::options(tmp.path()));
        host.loadAll();
        QVERIFY(host.runCommand("ctx", "go", QString()));
        QVERIFY(host.waitForIdle("ctx", kWait));
        QCOMPARE(app.notifications().size(), 1);
        QVERIFY2(app.notifications()[0].contains("cloud mode") && app.notifications()[0].contains("context.read"),
                 qPrintable(app.notifications()[0]));
        QVERIFY(app.contextQueries().isEmpty());  // the store was never asked
        // Back in local mode the same call is allowed.
        app.cloud = false;
        QVERIFY(host.runCommand("ctx", "go", QString()));
        QVERIFY(host.waitForIdle("ctx", kWait));
        QCOMPARE(app.notifications().last(), QStringLiteral("searched"));
        QCOMPARE(app.contextQueries(), QStringList{"secret"});
    }

    void noFileOrNetworkAccess() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"probe", {}, {"probe"}, {}, R"JS(
            bonsai.registerCommand('probe', function () {
                var r = {};
                r.xhr = typeof XMLHttpRequest;
                r.qt = typeof Qt;
                r.print = typeof print;
                r.require = typeof require;
                r.importScripts = typeof importScripts;
                r.fetch = typeof fetch;
                r.consoleKeys = Object.keys(console).sort().join(',');
                try { Qt.include('/etc/passwd'); r.include = 'ran'; } catch (e) { r.include = e.name; }
                try { eval("import('/etc/passwd')"); r.dynImport = 'ran'; } catch (e) { r.dynImport = e.name; }
                try { new Function("return import('/etc/hostname')")(); r.fnImport = 'ran'; } catch (e) { r.fnImport = e.name; }
                r.frozen = Object.isFrozen(bonsai);
                bonsai.notify(JSON.stringify(r));
            });)JS"});
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        host.loadAll();
        QVERIFY(host.runCommand("probe", "probe", QString()));
        QVERIFY(host.waitForIdle("probe", kWait));
        QCOMPARE(app.notifications().size(), 1);
        const QJsonObject r = QJsonDocument::fromJson(app.notifications()[0].toUtf8()).object();
        QCOMPARE(r["xhr"].toString(), QStringLiteral("undefined"));
        QCOMPARE(r["qt"].toString(), QStringLiteral("undefined"));
        QCOMPARE(r["print"].toString(), QStringLiteral("undefined"));
        QCOMPARE(r["require"].toString(), QStringLiteral("undefined"));
        QCOMPARE(r["importScripts"].toString(), QStringLiteral("undefined"));
        QCOMPARE(r["fetch"].toString(), QStringLiteral("undefined"));
        QCOMPARE(r["include"].toString(), QStringLiteral("ReferenceError"));
        QCOMPARE(r["dynImport"].toString(), QStringLiteral("SyntaxError"));
        QCOMPARE(r["fnImport"].toString(), QStringLiteral("SyntaxError"));
        QCOMPARE(r["consoleKeys"].toString(), QStringLiteral("debug,error,info,log,warn"));
        QVERIFY(r["frozen"].toBool());
    }

    void consoleLogReachesHost() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"logger", {}, {}, {}, "console.log('hello', 42, {a:1}.a);"});
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy log(&host, &PluginHost::pluginLog);
        host.loadAll();
        QVERIFY(host.waitForIdle("logger", kWait));
        QCOMPARE(log.size(), 1);
        QCOMPARE(log.at(0).at(1).toString(), QStringLiteral("hello 42 1"));
    }

    void undeclaredCommandCannotBeRegistered() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"sneaky", {}, {"ok"}, {}, "bonsai.registerCommand('other', function () {});"});
        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy disabled(&host, &PluginHost::pluginDisabled);
        host.loadAll();
        QVERIFY(disabled.wait(kWait));
        QVERIFY2(disabled.at(0).at(1).toString().contains("'other' is not declared"), qPrintable(disabled.at(0).at(1).toString()));
        QString err;
        QVERIFY(!host.runCommand("sneaky", "other", QString(), &err));
    }

    void completionStreamsTokens() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"streamer", {"model"}, {"ask"}, {}, R"JS(
            bonsai.registerCommand('ask', function (args) {
                var n = 0;
                bonsai.complete([{role: 'user', content: args}], {
                    system: 'be brief', temperature: 0.5,
                    onToken: function (t) { n++; },
                    onDone: function (text, error) { bonsai.insertMessage(n + '|' + text + '|' + error); }
                });
            });)JS"});
        FakeHostServices app;
        app.reply = [](const CompletionRequest& r) { return "echo:" + r.messages.last().content; };
        app.tokenChars = 3;
        PluginHost host(&app, plugintest::options(tmp.path()));
        host.loadAll();
        QVERIFY(host.runCommandLine("/ask what is up"));
        QVERIFY(host.waitForIdle("streamer", kWait));
        const auto reqs = app.requests();
        QCOMPARE(reqs.size(), 1);
        QCOMPARE(reqs[0].pluginId, QStringLiteral("streamer"));
        QCOMPARE(reqs[0].messages.size(), 2);
        QCOMPARE(reqs[0].messages[0].role, QStringLiteral("system"));
        QCOMPARE(reqs[0].messages[1].content, QStringLiteral("what is up"));
        QCOMPARE(reqs[0].options.value("temperature").toDouble(), 0.5);
        const QString expectText = "echo:what is up";  // 15 characters in 3-character tokens
        QCOMPARE(app.inserted().size(), 1);
        QCOMPARE(app.inserted()[0].content, QStringLiteral("5|%1|null").arg(expectText));
        QCOMPARE(app.inserted()[0].role, QStringLiteral("assistant"));
    }

    void malformedManifestRejectedOthersLoad() {
        QTemporaryDir tmp;
        const QString root = tmp.path() + "/plugins";
        QDir().mkpath(root + "/broken");
        QFile f(root + "/broken/plugin.json");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"id":"broken","name":"B","version":"1","apiVersion":1,"permissions":["network"]})");
        f.close();
        QDir().mkpath(root + "/nomain");
        QFile g(root + "/nomain/plugin.json");
        QVERIFY(g.open(QIODevice::WriteOnly));
        g.write(R"({"id":"nomain","name":"B","version":"1","apiVersion":1})");
        g.close();
        writePlugin(root, healthy());
        writePlugin(root, {"healthy-twin", {}, {}, {}, ""});
        // Same id as "healthy" in another folder: refused as a duplicate.
        QFile dup(root + "/healthy-twin/plugin.json");
        QVERIFY(dup.open(QIODevice::WriteOnly));
        dup.write(R"({"id":"healthy","name":"Twin","version":"1","apiVersion":1})");
        dup.close();

        FakeHostServices app;
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy failed(&host, &PluginHost::loadFailed);
        QCOMPARE(host.loadAll(), 1);
        QCOMPARE(failed.size(), 3);
        QStringList messages;
        for (const auto& a : failed) messages << a.at(1).toString();
        QVERIFY2(messages.filter("unknown permission 'network'").size() == 1, qPrintable(messages.join('\n')));
        QVERIFY2(messages.filter("'main' names main.js").size() == 1, qPrintable(messages.join('\n')));
        QVERIFY2(messages.filter("already used").size() == 1, qPrintable(messages.join('\n')));
        QVERIFY(host.runCommand("healthy", "ping", QString()));
        QVERIFY(host.waitForIdle("healthy", kWait));
        QCOMPARE(app.notifications(), QStringList{"pong"});
    }

    void mainSymlinkOutsideFolderRejected() {
        QTemporaryDir tmp;
        const QString folder = writePlugin(tmp.path() + "/plugins", {"escape", {}, {}, {}, ""});
        QFile::remove(folder + "/main.js");
        QFile outside(tmp.path() + "/outside.js");
        QVERIFY(outside.open(QIODevice::WriteOnly));
        outside.close();
        QVERIFY(QFile::link(tmp.path() + "/outside.js", folder + "/main.js"));
        const DiscoveredPlugin d = readPluginFolder(folder);
        QVERIFY(!d.manifest);
        QVERIFY2(d.error.contains("outside the plugin folder"), qPrintable(d.error));
    }

    void templatePluginWorks() {
        QTemporaryDir tmp;
        FakeHostServices app;
        app.reply = [](const CompletionRequest& r) { return "  Hi, " + r.messages.last().content.section(' ', -1) + "  "; };
        PluginHost host(&app, plugintest::options(tmp.path()));
        QSignalSpy log(&host, &PluginHost::pluginLog);
        QVERIFY(host.loadFolder(QStringLiteral(BONSAI_SOURCE_DIR "/plugins/template")));
        QVERIFY(host.runCommandLine("/hello Ada"));
        QVERIFY(host.runMessageAction("org.example.hello", "shout", {"m1", "user", "quiet"}));
        QVERIFY(host.waitForIdle("org.example.hello", kWait));
        QVERIFY(host.plugin("org.example.hello")->enabled);
        QCOMPARE(app.requests().size(), 1);
        QCOMPARE(app.requests()[0].messages[0].content, QStringLiteral("Write one cheerful sentence greeting Ada."));
        QCOMPARE(app.requests()[0].options.value("maxTokens").toInt(), 64);
        QCOMPARE(app.inserted().size(), 1);
        QCOMPARE(app.inserted()[0].content, QStringLiteral("Hi, Ada."));
        QCOMPARE(app.composer(), QStringList{"QUIET"});
        QCOMPARE(log.size(), 1);
    }

    void defaultDirsFollowXdg() {
        qputenv("XDG_DATA_HOME", "/tmp/xdg-data-test");
        qunsetenv("BONSAI_DATA_DIR");
        const QStringList dirs = defaultPluginDirs("/nonexistent/bin");
        QVERIFY(dirs.contains("/tmp/xdg-data-test/bonsai/plugins"));
        // Not installed: the development build falls back to the source tree's built-ins.
        QVERIFY(dirs.contains(QStringLiteral(BONSAI_SOURCE_DIR "/plugins/builtin")));
        qputenv("XDG_CONFIG_HOME", "/tmp/xdg-config-test");
        qunsetenv("BONSAI_CONFIG_DIR");
        QCOMPARE(defaultSettingsDir(), QStringLiteral("/tmp/xdg-config-test/bonsai/plugins"));
    }
};

QTEST_GUILESS_MAIN(TestPluginSandbox)
#include "test_plugin_sandbox.moc"
