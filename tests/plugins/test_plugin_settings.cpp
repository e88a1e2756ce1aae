// Plugin settings: persisted as a JSON object per plugin, size-limited, reachable from JavaScript.
#include <QSignalSpy>
#include <QtTest>

#include "api/plugin_api.h"
#include "host/settings_store.h"
#include "plugin_test_util.h"

using namespace bonsai::plugins;
using plugintest::writePlugin;

class TestPluginSettings : public QObject {
    Q_OBJECT

    static QJsonObject readJson(const QString& path) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) return {};
        return QJsonDocument::fromJson(f.readAll()).object();
    }

private slots:
    void storePersistsAndRemoves() {
        QTemporaryDir tmp;
        const QString path = tmp.path() + "/sub/p.json";
        {
            SettingsStore s(path);
            s.setValue("lang", QJsonValue("de"));
            s.setValue("n", QJsonValue(3));
            s.setValue("gone", QJsonValue(true));
            s.setValue("gone", QJsonValue(QJsonValue::Null));
        }
        QCOMPARE(readJson(path), (QJsonObject{{"lang", "de"}, {"n", 3}}));
        SettingsStore again(path);
        QCOMPARE(again.value("lang").toString(), QStringLiteral("de"));
        QVERIFY(again.value("gone").isUndefined());
        QCOMPARE(again.keys(), (QStringList{"lang", "n"}));
    }

    void storeRefusesPastLimit() {
        QTemporaryDir tmp;
        const QString path = tmp.path() + "/p.json";
        SettingsStore s(path, 100);
        s.setValue("a", QJsonValue("small"));
        bool threw = false;
        try {
            s.setValue("b", QJsonValue(QString(200, 'x')));
        } catch (const PluginError& e) {
            threw = true;
            QVERIFY2(e.message().contains("over the limit of 100"), qPrintable(e.message()));
        }
        QVERIFY(threw);
        // Nothing changed, in memory or on disk.
        QVERIFY(s.value("b").isUndefined());
        QCOMPARE(readJson(path), (QJsonObject{{"a", "small"}}));
        bool badKey = false;
        try {
            s.setValue(QString(), QJsonValue(1));
        } catch (const PluginError&) {
            badKey = true;
        }
        QVERIFY(badKey);
    }

    void corruptFileStartsEmpty() {
        QTemporaryDir tmp;
        const QString path = tmp.path() + "/p.json";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[1, 2");
        f.close();
        SettingsStore s(path);
        QVERIFY(s.keys().isEmpty());
        QVERIFY(!s.loadError().isEmpty());
    }

    void pluginSettingsSurviveRestartAndAreLimited() {
        QTemporaryDir tmp;
        writePlugin(tmp.path() + "/plugins", {"keeper", {}, {"set", "get", "big"}, {}, R"JS(
            bonsai.registerCommand('set', function (v) { bonsai.settings.set('greeting', v); bonsai.settings.set('obj', {a: [1, 2]}); });
            bonsai.registerCommand('get', function () {
                bonsai.notify(bonsai.settings.get('greeting', 'none') + '|' + JSON.stringify(bonsai.settings.get('obj')) +
                              '|' + bonsai.settings.get('missing', 'fallback') + '|' + bonsai.settings.keys().join(','));
            });
            bonsai.registerCommand('big', function () {
                try { bonsai.settings.set('blob', new Array(2000).join('x')); bonsai.notify('stored'); }
                catch (e) { bonsai.notify(String(e)); }
            });)JS"});
        FakeHostServices app;
        auto opts = plugintest::options(tmp.path());
        opts.settingsLimit = 1024;
        {
            PluginHost host(&app, opts);
            host.loadAll();
            QVERIFY(host.runCommand("keeper", "set", "hallo"));
            QVERIFY(host.waitForIdle("keeper", 10000));
        }
        QCOMPARE(readJson(tmp.path() + "/settings/keeper.json"),
                 (QJsonObject{{"greeting", "hallo"}, {"obj", QJsonObject{{"a", QJsonArray{1, 2}}}}}));
        PluginHost host(&app, opts);
        host.loadAll();
        QVERIFY(host.runCommand("keeper", "get", QString()));
        QVERIFY(host.runCommand("keeper", "big", QString()));
        QVERIFY(host.waitForIdle("keeper", 10000));
        QCOMPARE(app.notifications().size(), 2);
        QCOMPARE(app.notifications()[0], QStringLiteral("hallo|{\"a\":[1,2]}|fallback|greeting,obj"));
        QVERIFY2(app.notifications()[1].contains("over the limit of 1024"), qPrintable(app.notifications()[1]));
    }
};

QTEST_GUILESS_MAIN(TestPluginSettings)
#include "test_plugin_settings.moc"
