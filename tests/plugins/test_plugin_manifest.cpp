// plugin.json validation: valid manifests parse; every malformed one is refused with a message naming the field.
#include <QtTest>

#include "host/manifest.h"

using bonsai::plugins::parseManifest;

class TestPluginManifest : public QObject {
    Q_OBJECT
private slots:
    void validManifestParses() {
        const auto r = parseManifest(R"({"id":"org.example.translate","name":"Translate","version":"1.0.0",
            "apiVersion":1,"description":"d","permissions":["model","conversation.read"],
            "contributes":{"commands":[{"name":"translate","description":"Translate text"}],
                           "messageActions":[{"id":"translate-to","title":"Translate to…"}]}})");
        QVERIFY2(r.manifest.has_value(), qPrintable(r.error));
        QCOMPARE(r.manifest->id, QStringLiteral("org.example.translate"));
        QCOMPARE(r.manifest->permissions, QStringList({"model", "conversation.read"}));
        QCOMPARE(r.manifest->commands.size(), 1);
        QCOMPARE(r.manifest->commands[0].name, QStringLiteral("translate"));
        QCOMPARE(r.manifest->messageActions[0].title, QStringLiteral("Translate to…"));
        QCOMPARE(r.manifest->main, QStringLiteral("main.js"));
        QVERIFY(r.manifest->type == bonsai::plugins::PluginType::JavaScript);
    }
    void nativeManifestParses() {
        const auto r = parseManifest(R"({"id":"n","name":"N","version":"1","apiVersion":1,"type":"native","main":"libn.so"})");
        QVERIFY2(r.manifest.has_value(), qPrintable(r.error));
        QVERIFY(r.manifest->type == bonsai::plugins::PluginType::Native);
        QCOMPARE(r.manifest->main, QStringLiteral("libn.so"));
    }
    void builtinManifestsAreValid() {
        for (const char* dir : {"plugins/builtin/translate", "plugins/builtin/codehelp", "plugins/template"}) {
            QFile f(QStringLiteral(BONSAI_SOURCE_DIR "/") + dir + "/plugin.json");
            QVERIFY(f.open(QIODevice::ReadOnly));
            const auto r = parseManifest(f.readAll());
            QVERIFY2(r.manifest.has_value(), qPrintable(QString::fromLatin1(dir) + ": " + r.error));
        }
    }
    void malformed_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        const QByteArray base = R"("name":"N","version":"1","apiVersion":1)";
        QTest::newRow("not json") << QByteArray("{nope") << "not valid JSON";
        QTest::newRow("array top") << QByteArray("[]") << "must be an object";
        QTest::newRow("missing id") << "{" + base + "}" << "missing required field 'id'";
        QTest::newRow("id wrong type") << R"({"id":5,)" + base + "}" << "'id' must be a string";
        QTest::newRow("id bad chars") << R"({"id":"Evil/../x",)" + base + "}" << "'id' may only contain";
        QTest::newRow("missing api") << QByteArray(R"({"id":"a","name":"N","version":"1"})") << "'apiVersion'";
        QTest::newRow("api too new") << QByteArray(R"({"id":"a","name":"N","version":"1","apiVersion":99})") << "not supported";
        QTest::newRow("api float") << QByteArray(R"({"id":"a","name":"N","version":"1","apiVersion":1.5})") << "must be an integer";
        QTest::newRow("unknown permission") << R"({"id":"a",)" + base + R"(,"permissions":["net"]})" << "unknown permission 'net'";
        QTest::newRow("permissions not array") << R"({"id":"a",)" + base + R"(,"permissions":"model"})" << "must be an array";
        QTest::newRow("command no name") << R"({"id":"a",)" + base + R"(,"contributes":{"commands":[{}]}})" << "contributes.commands[0]";
        QTest::newRow("main escapes") << R"({"id":"a",)" + base + R"(,"main":"../../etc/passwd"})" << "inside the plugin folder";
        QTest::newRow("name wrong type") << QByteArray(R"({"id":"a","name":["N"],"version":"1","apiVersion":1})") << "'name' must be a string";
        QTest::newRow("missing version") << QByteArray(R"({"id":"a","name":"N","apiVersion":1})") << "missing required field 'version'";
        QTest::newRow("permission not string") << R"({"id":"a",)" + base + R"(,"permissions":[1]})" << "'permissions[0]' must be a string";
        QTest::newRow("contributes not object") << R"({"id":"a",)" + base + R"(,"contributes":[]})" << "'contributes' must be an object";
        QTest::newRow("bad command name") << R"({"id":"a",)" + base + R"(,"contributes":{"commands":[{"name":"Do It"}]}})" << "must be lower-case";
        QTest::newRow("action no title") << R"({"id":"a",)" + base + R"(,"contributes":{"messageActions":[{"id":"x"}]}})" << "missing required field 'title'";
        QTest::newRow("unknown type") << R"({"id":"a",)" + base + R"(,"type":"python"})" << "'type' must be";
        QTest::newRow("native needs main") << R"({"id":"a",)" + base + R"(,"type":"native"})" << "must name its library in 'main'";
        QTest::newRow("main absolute") << R"({"id":"a",)" + base + R"(,"main":"/tmp/x.js"})" << "inside the plugin folder";
        QTest::newRow("id too long") << "{\"id\":\"" + QByteArray(65, 'a') + "\"," + base + "}" << "longer than 64";
        QTest::newRow("oversized") << QByteArray(70 * 1024, ' ') << "larger than";
    }
    void malformed() {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        const auto r = parseManifest(json);
        QVERIFY(!r.manifest.has_value());
        QVERIFY2(r.error.contains(expected), qPrintable(r.error));
    }
};

QTEST_GUILESS_MAIN(TestPluginManifest)
#include "test_plugin_manifest.moc"
