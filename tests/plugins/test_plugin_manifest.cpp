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
