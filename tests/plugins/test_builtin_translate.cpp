// The built-in translate plugin end to end through the real host, with a fake provider: the prompt it
// builds (target and detected source language, glossary, masked code) and the reply it inserts (code and
// links restored exactly).
#include <QSignalSpy>
#include <QtTest>

#include "plugin_test_util.h"

using namespace bonsai::plugins;

namespace {
const QString kId = QStringLiteral("org.bonsai.translate");
const QChar kOpen(0x27E6), kClose(0x27E7);
}

class TestBuiltinTranslate : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

    std::unique_ptr<PluginHost> makeHost(FakeHostServices& app) {
        auto host = std::make_unique<PluginHost>(&app, plugintest::options(tmp_.path()));
        connect(host.get(), &PluginHost::pluginDisabled, this, [](const QString&, const QString& m) { qWarning("%s", qPrintable(m)); });
        if (!host->loadFolder(QStringLiteral(BONSAI_SOURCE_DIR "/plugins/builtin/translate"))) return nullptr;
        return host;
    }

    // Runs one command line and returns the single request it produced.
    CompletionRequest runOne(FakeHostServices& app, const QString& line) {
        auto host = makeHost(app);
        if (!host || !host->runCommandLine(line) || !host->waitForIdle(kId, 10000) || !host->plugin(kId)->enabled) return {};
        const auto reqs = app.requests();
        return reqs.size() == 1 ? reqs[0] : CompletionRequest{};
    }

private slots:
    void cleanup() { QDir(tmp_.path() + "/settings").removeRecursively(); }

    void detectsSourceAndTarget_data() {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("target");
        QTest::newRow("de->en") << "/translate to en Ich habe heute keine Zeit, aber wir können uns morgen sehen." << "German" << "English";
        QTest::newRow("fr->de") << "/translate to de Je ne sais pas si nous avons le temps pour cette réunion." << "French" << "German";
        QTest::newRow("es->en") << "/translate to English El perro de mi hermano es muy grande y no le gusta la lluvia." << "Spanish" << "English";
        QTest::newRow("it->en") << "/translate to en Il mio amico non è ancora arrivato, ma la cena è pronta per tutti." << "Italian" << "English";
        QTest::newRow("pt->en") << "/translate to en Eu não sei se você está em casa, mas a porta está aberta." << "Portuguese" << "English";
        QTest::newRow("nl->en") << "/translate to en Ik weet niet of het een goed idee is, maar we kunnen het proberen." << "Dutch" << "English";
        QTest::newRow("en->fr") << "/translate to français The weather is nice and we are going to the park with the children." << "English" << "French";
        QTest::newRow("ru->en") << "/translate to en Привет, как у тебя дела сегодня?" << "Russian" << "English";
        QTest::newRow("ja->en") << "/translate to en 今日はとても暑いですね。" << "Japanese" << "English";
        QTest::newRow("el->en") << "/translate to en Καλημέρα, τι κάνεις σήμερα;" << "Greek" << "English";
    }
    void detectsSourceAndTarget() {
        QFETCH(QString, line);
        QFETCH(QString, source);
        QFETCH(QString, target);
        FakeHostServices app;
        const CompletionRequest r = runOne(app, line);
        QCOMPARE(r.messages.size(), 2);
        const QString sys = r.messages[0].content;
        QVERIFY2(sys.contains(QStringLiteral("from %1 to %2.").arg(source, target)), qPrintable(sys));
        // The text itself goes to the model, without the "to LANG" prefix.
        QVERIFY(!r.messages[1].content.startsWith("to "));
        QVERIFY(line.endsWith(r.messages[1].content));
    }

    void masksCodeAndLinksAndRestoresThem() {
        const QString code = "```js\nconst greeting = \"hello world\";\nconsole.log(greeting);\n```";
        const QString tilde = "~~~\nplain block with the word the\n~~~";
        const QString text = "Hello, this is **important**: the function `greet()` prints the greeting.\n\n" + code +
                             "\n\nRead [the docs](https://example.com/docs?a=1) first.\n\n" + tilde + "\n\nThanks!";
        FakeHostServices app;
        // A model that "translates" by prefixing a word, keeps the markers but swaps the two code blocks' order.
        app.reply = [](const CompletionRequest& r) {
            QString t = r.messages[1].content;
            return QStringLiteral("  Übersetzt: ") + t + "  ";
        };
        const CompletionRequest r = runOne(app, "/translate to de " + text);
        QCOMPARE(r.messages.size(), 2);
        const QString user = r.messages[1].content;
        // Code, inline code and the URL never reach the model; Markdown emphasis and link text do.
        QVERIFY2(!user.contains("const greeting") && !user.contains("greet()") && !user.contains("example.com") &&
                     !user.contains("plain block"), qPrintable(user));
        QVERIFY2(user.contains("**important**") && user.contains("[the docs]("), qPrintable(user));
        QCOMPARE(user.count(kOpen), 4);
        QVERIFY(r.messages[0].content.contains("copy every marker unchanged"));
        QVERIFY(r.messages[0].content.contains("to German."));
        // The inserted translation has everything back, byte for byte.
        QCOMPARE(app.inserted().size(), 1);
        QCOMPARE(app.inserted()[0].content, QStringLiteral("Übersetzt: ") + text);
        QVERIFY(app.notifications().isEmpty());
    }

    void restoresReorderedAndDroppedMarkers() {
        FakeHostServices app;
        // Masking numbers the fenced block 0, then the inline spans 1 and 2. The model swaps the inline ones
        // and drops the block.
        app.reply = [](const CompletionRequest&) {
            return QStringLiteral("B: ") + kOpen + "2" + kClose + " A: " + kOpen + " 1 " + kClose + " end";
        };
        const CompletionRequest r = runOne(app, "/translate to de first `a()` then `b()`\n```\nx\n```\ndone");
        QVERIFY(!r.messages.isEmpty());
        QCOMPARE(app.inserted().size(), 1);
        QCOMPARE(app.inserted()[0].content, QStringLiteral("B: `b()` A: `a()` end\n\n```\nx\n```"));
        QCOMPARE(app.notifications().size(), 1);
        QVERIFY(app.notifications()[0].contains("dropped 1"));
    }

    void glossaryTermsGoIntoThePrompt() {
        // A glossary as the user's settings file would hold it: general terms and German-only ones.
        QDir().mkpath(tmp_.path() + "/settings");
        QFile f(tmp_.path() + "/settings/" + kId + ".json");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"glossary":{"pull request":"Pull-Request","unused term":"nie","de":{"deploy":"ausrollen"},"fr":{"deploy":"déployer"}}})");
        f.close();
        FakeHostServices app;
        const CompletionRequest r = runOne(app, "/translate to de Please review my pull request before we deploy it.");
        const QString sys = r.messages.value(0).content;
        QVERIFY2(sys.contains("\"pull request\" \u2192 \"Pull-Request\""), qPrintable(sys));
        QVERIFY2(sys.contains("\"deploy\" \u2192 \"ausrollen\""), qPrintable(sys));
        QVERIFY(!sys.contains("déployer"));  // another language's entry
        QVERIFY(!sys.contains("unused term"));  // not in the text
    }

    void glossaryCommandStoresTerms() {
        FakeHostServices app;
        {
            auto host = makeHost(app);
            QVERIFY(host);
            QVERIFY(host->runCommandLine("/translate glossary merge request = Merge-Request"));
            QVERIFY(host->runCommandLine("/translate glossary"));
            QVERIFY(host->waitForIdle(kId, 10000));
        }
        QCOMPARE(app.notifications().size(), 2);
        QVERIFY2(app.notifications()[1].contains("merge request = Merge-Request"), qPrintable(app.notifications()[1]));
        QFile f(tmp_.path() + "/settings/" + kId + ".json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(o["glossary"].toObject()["merge request"].toString(), QStringLiteral("Merge-Request"));
        QVERIFY(app.requests().isEmpty());
    }

    void messageActionAndSelectedMessage() {
        FakeHostServices app;
        app.selected = {"m7", "assistant", "Der Hund schläft auf dem Sofa und die Katze auch."};
        auto host = makeHost(app);
        QVERIFY(host);
        QVERIFY(host->runMessageAction(kId, "translate-to", {"m3", "user", "Where is the station? I am lost and the train is late."}, "es"));
        QVERIFY(host->runCommandLine("/translate"));  // no text: the selected message, default target English
        QVERIFY(host->waitForIdle(kId, 10000));
        const auto reqs = app.requests();
        QCOMPARE(reqs.size(), 2);
        QVERIFY2(reqs[0].messages[0].content.contains("from English to Spanish."), qPrintable(reqs[0].messages[0].content));
        QVERIFY(reqs[0].messages[1].content.startsWith("Where is the station?"));
        QVERIFY2(reqs[1].messages[0].content.contains("from German to English."), qPrintable(reqs[1].messages[0].content));
        QCOMPARE(reqs[1].messages[1].content, app.selected.content);
        QCOMPARE(app.inserted().size(), 2);
    }

    void unknownLanguageAndNothingToTranslate() {
        FakeHostServices app;
        auto host = makeHost(app);
        QVERIFY(host);
        QVERIFY(host->runCommandLine("/translate to klingonish hello"));
        QVERIFY(host->runCommandLine("/translate"));  // nothing selected either
        QVERIFY(host->waitForIdle(kId, 10000));
        QVERIFY(host->plugin(kId)->enabled);
        QCOMPARE(app.notifications().size(), 2);
        QVERIFY(app.notifications()[0].contains("Unknown language \"klingonish\""));
        QVERIFY(app.notifications()[1].startsWith("Usage: /translate"));
        QVERIFY(app.requests().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestBuiltinTranslate)
#include "test_builtin_translate.moc"
