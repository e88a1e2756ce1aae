// The real main window, offscreen, on the real object graph (ui/src/app_wiring.h) with temporary data
// folders and the tiny fixture model: send a message and see the streamed reply stored, switch to cloud
// mode and see the notice, search finds the message, delete then undo, the Models page lists the file.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>
#include <QPdfWriter>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QtTest>

#include "app_wiring.h"
#include "bonsai/storage/database.h"
#include "context_controller.h"
#include "chat_controller.h"
#include "core/conversation_service.h"
#include "core/local_provider.h"
#include "main_window_loader.h"
#include "models_controller.h"
#include "sidebar_controller.h"

using namespace bonsai::ui;

namespace {
const QString kModel = QStringLiteral(BONSAI_FIXTURES_DIR "/models/qwen3-e256-F32.gguf");

QQuickItem* item(QObject* root, const char* name) {
    return root->findChild<QQuickItem*>(QString::fromLatin1(name));
}
// QTest::keyClicks exists for widgets only: type into a QWindow one character at a time.
void typeText(QWindow* window, const char* text) {
    for (const char* c = text; *c; ++c) QTest::keyClick(window, *c);
}
}  // namespace

class TestUiChatWindow : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::unique_ptr<App> app_;
    std::unique_ptr<QQmlApplicationEngine> engine_;
    QObject* root_ = nullptr;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("BonsaiTest"));
        QCoreApplication::setApplicationName(QStringLiteral("BonsaiUiTest"));
        AppOptions o;
        o.databasePath = dir_.filePath("profile.sqlite3");
        o.modelsDir = dir_.filePath("models");
        o.defaultModel = kModel;
        o.applicationDir = dir_.path();
        o.loadPlugins = false;
        o.cliPath = QStringLiteral(BONSAI_CLI_PATH);
        app_ = std::make_unique<App>(o);
        app_->service().setAutoTitles(false);
        app_->service().setMaxReplyTokens(12);
        engine_ = std::make_unique<QQmlApplicationEngine>();
        root_ = loadMainWindow(*engine_, app_->windowModels());
        QVERIFY(root_);
        QVERIFY(qobject_cast<QQuickWindow*>(root_));
        QSignalSpy loaded(&app_->localProvider(), &bonsai::core::LocalProvider::modelLoaded);
        app_->loadInitialModel();
        QVERIFY(loaded.wait(60000));
        QVERIFY(!app_->chat().localModel().isEmpty());
        QVERIFY(item(root_, "modelLabel")->property("text").toString().contains(app_->chat().localModel()));
    }

    void sendStreamsAndStoresTheReply() {
        auto* box = item(root_, "messageBox");
        auto* send = item(root_, "sendButton");
        QVERIFY(box && send);
        QVERIFY(!send->property("enabled").toBool());
        box->setProperty("text", QStringLiteral("Tell me about the quick brown fox"));
        QVERIFY(send->property("enabled").toBool());
        QSignalSpy tokens(&app_->service(), &bonsai::core::ConversationService::replyToken);
        QSignalSpy done(&app_->chat(), &ChatController::replyDone);
        QVERIFY(QMetaObject::invokeMethod(send, "clicked"));
        QCOMPARE(box->property("text").toString(), QString());  // the composer empties on send
        QVERIFY(done.wait(60000));
        QVERIFY(tokens.count() >= 1);  // streamed, not delivered at once

        const qint64 id = app_->chat().conversationId();
        QVERIFY(id > 0);
        const auto stored = app_->service().messages(id);
        QCOMPARE(stored.size(), 2);
        QCOMPARE(stored[0].role, QString("user"));
        QCOMPARE(stored[0].content, QString("Tell me about the quick brown fox"));
        QCOMPARE(stored[1].role, QString("assistant"));
        QCOMPARE(stored[1].status, QString("complete"));
        QCOMPARE(stored[1].provider, QString("local"));
        QString streamed;
        for (const auto& args : tokens) streamed += args.at(2).toString();
        QCOMPARE(stored[1].content, streamed);  // what streamed is what was stored
        QTRY_COMPARE(item(root_, "messageList")->property("count").toInt(), 2);
        QTRY_COMPARE(item(root_, "conversationList")->property("count").toInt(), 1);
        QVERIFY(app_->chat().contextUsed() > 0);
    }

    void switchingToCloudShowsTheNotice() {
        auto* sw = item(root_, "modeSwitch");
        auto* notice = item(root_, "cloudNotice");
        QVERIFY(sw && notice);
        QVERIFY(!notice->isVisible());
        sw->setProperty("checked", true);
        QVERIFY(QMetaObject::invokeMethod(sw, "toggled"));
        QTRY_VERIFY(app_->chat().cloud());
        QCOMPARE(app_->service().mode(app_->chat().conversationId()), QString("cloud"));
        QTRY_VERIFY(notice->isVisible());
        QVERIFY(!item(root_, "useContextToggle")->property("enabled").toBool());  // never sent to the cloud
        sw->setProperty("checked", false);
        QVERIFY(QMetaObject::invokeMethod(sw, "toggled"));
        QTRY_VERIFY(!app_->chat().cloud());
        QTRY_VERIFY(!notice->isVisible());
    }

    void searchFindsTheMessage() {
        auto* field = item(root_, "searchField");
        auto* results = item(root_, "searchResults");
        QVERIFY(field && results);
        field->setProperty("text", QStringLiteral("brown"));
        QTRY_VERIFY(results->property("count").toInt() >= 1);
        const auto& rows = app_->sidebar().searchResults()->rows();
        QCOMPARE(rows.first().conversationId, app_->chat().conversationId());
        QVERIFY(rows.first().snippetHtml.contains(QStringLiteral(">brown</font></b>")));
        field->setProperty("text", QStringLiteral("zebra"));
        QTRY_COMPARE(results->property("count").toInt(), 0);
        field->setProperty("text", QString());
    }

    void deleteThenUndo() {
        auto* list = item(root_, "conversationList");
        const qint64 id = app_->chat().conversationId();
        QCOMPARE(list->property("count").toInt(), 1);
        app_->sidebar().remove(id);
        QTRY_COMPARE(list->property("count").toInt(), 0);
        QVERIFY(app_->service().conversations().isEmpty());
        auto* undo = item(root_, "undoButton");
        QVERIFY(undo);
        QTRY_VERIFY(item(root_, "undoBanner")->isVisible());
        QVERIFY(QMetaObject::invokeMethod(undo, "clicked"));
        QTRY_COMPARE(list->property("count").toInt(), 1);
        QCOMPARE(app_->service().conversations().first().id, id);
        QCOMPARE(app_->service().messages(id).size(), 2);  // messages came back too
        QVERIFY(!app_->sidebar().canUndoDelete());
    }

    void enterSendsAndShiftEnterAddsALine() {
        auto* window = qobject_cast<QQuickWindow*>(root_);
        QVERIFY(QTest::qWaitForWindowExposed(window));
        window->requestActivate();
        auto* box = item(root_, "messageBox");
        box->forceActiveFocus();
        QTRY_VERIFY(box->hasActiveFocus());
        typeText(window, "first line");
        QTest::keyClick(window, Qt::Key_Return, Qt::ShiftModifier);
        typeText(window, "second");
        QCOMPARE(box->property("text").toString(), QString("first line\nsecond"));
        QSignalSpy done(&app_->chat(), &ChatController::replyDone);
        QTest::keyClick(window, Qt::Key_Return);
        QCOMPARE(box->property("text").toString(), QString());
        QVERIFY(done.wait(60000));
        const auto stored = app_->service().messages(app_->chat().conversationId());
        QCOMPARE(stored.at(stored.size() - 2).content, QString("first line\nsecond"));
        // Ctrl+N opens a new, empty chat.
        QTest::keyClick(window, Qt::Key_N, Qt::ControlModifier);
        QTRY_COMPARE(app_->chat().conversationId(), 0);
        QCOMPARE(item(root_, "messageList")->property("count").toInt(), 0);
        app_->chat().openConversation(app_->service().conversations().first().id);
        QTRY_COMPARE(item(root_, "messageList")->property("count").toInt(), 4);
    }

    void exportWritesMarkdownAndJson() {
        const qint64 id = app_->chat().conversationId();
        const QString md = dir_.filePath("chat.md");
        const QString json = dir_.filePath("chat.json");
        QVERIFY(app_->sidebar().exportTo(id, "md", QUrl::fromLocalFile(md).toString()));
        QVERIFY(app_->sidebar().exportTo(0, "json", json));
        QFile f(md);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(QString::fromUtf8(f.readAll()).contains("Tell me about the quick brown fox"));
        QFile j(json);
        QVERIFY(j.open(QIODevice::ReadOnly));
        const QJsonObject doc = QJsonDocument::fromJson(j.readAll()).object();
        QCOMPARE(doc["format"].toString(), QString("bonsai-conversations"));
        QCOMPARE(doc["conversations"].toArray().size(), 1);
        QVERIFY(!app_->sidebar().exportTo(id, "md", dir_.filePath("no/such/dir/x.md")));
        QVERIFY(!app_->sidebar().status().isEmpty());
    }

    void regenerateAddsABranch() {
        const qint64 id = app_->chat().conversationId();
        const qint64 firstAnswer = app_->service().messages(id).at(3).id;
        QSignalSpy done(&app_->chat(), &ChatController::replyDone);
        app_->chat().regenerate();
        QVERIFY(done.wait(60000));
        const auto stored = app_->service().messages(id);
        QCOMPARE(stored.size(), 4);
        QVERIFY(stored[3].id != firstAnswer);
        QCOMPARE(stored[3].branchCount, 2);
    }

    void escapeStopsTheAnswer() {
        auto* window = qobject_cast<QQuickWindow*>(root_);
        app_->service().setMaxReplyTokens(400);
        QString finishReason;
        QSignalSpy done(&app_->chat(), &ChatController::replyDone);
        auto c1 = connect(&app_->service(), &bonsai::core::ConversationService::replyToken, window,
                          [window] { QTest::keyClick(window, Qt::Key_Escape); }, Qt::SingleShotConnection);
        auto c2 = connect(&app_->service(), &bonsai::core::ConversationService::replyFinished, this,
                          [&finishReason](qint64, qint64, const bonsai::core::GenerationStats& s) { finishReason = s.finishReason; });
        QVERIFY(app_->chat().send(QStringLiteral("Count slowly to one hundred")));
        QVERIFY(app_->chat().busy());
        QVERIFY(item(root_, "stopButton")->isVisible());
        QVERIFY(done.wait(60000));
        disconnect(c1);
        disconnect(c2);
        QCOMPARE(finishReason, QString("cancelled"));
        QTRY_VERIFY(!app_->chat().busy());
        app_->service().setMaxReplyTokens(12);
    }

    void modelsPageListsTheModel() {
        const QVariantList installed = app_->models().installed();
        QCOMPARE(installed.size(), 1);
        const QVariantMap m = installed.first().toMap();
        QCOMPARE(m["architecture"].toString(), QString("qwen3"));
        QCOMPARE(m["tensorType"].toString(), QString("F32"));
        QVERIFY(m["active"].toBool());
        QVERIFY(!app_->models().catalog().isEmpty());
        root_->setProperty("currentPage", 1);
        QTRY_VERIFY(item(root_, "modelsPage")->isVisible());
        root_->setProperty("currentPage", 0);

        // Ctrl+K opens the model switcher listing the installed model; Ctrl+F focuses the search field.
        auto* window = qobject_cast<QQuickWindow*>(root_);
        QObject* switcher = root_->findChild<QObject*>(QStringLiteral("modelSwitcher"));
        QVERIFY(switcher);
        QVERIFY(!switcher->property("opened").toBool());
        QTest::keyClick(window, Qt::Key_K, Qt::ControlModifier);
        QTRY_VERIFY(switcher->property("opened").toBool());
        QTest::keyClick(window, Qt::Key_Escape);
        QTRY_VERIFY(!switcher->property("visible").toBool());
        QTest::keyClick(window, Qt::Key_F, Qt::ControlModifier);
        QTRY_VERIFY(item(root_, "searchField")->hasActiveFocus());
    }

    void pdfImportExtractsText() {
#ifdef BONSAI_HAVE_POPPLER
        // A real PDF written by Qt's own PDF writer, then read back through poppler.
        const QString path = dir_.filePath("garden.pdf");
        {
            QPdfWriter writer(path);
            QPainter p(&writer);
            QFont font = p.font();
            font.setPointSize(14);
            p.setFont(font);
            p.drawText(QPointF(200, 400), QStringLiteral("The tomatoes need water every evening."));
        }
        bonsai::storage::Database db(dir_.filePath("context.sqlite3").toStdString());
        ContextController c(db);
        const qint64 id = c.importFile(path);
        QVERIFY2(id > 0, qPrintable(c.status()));
        c.search(QStringLiteral("tomatoes"));
        QCOMPARE(c.results().size(), 1);
        QCOMPARE(c.results()[0].toMap()["id"].toLongLong(), id);
        QCOMPARE(c.importFile(dir_.filePath("chat.md").replace(".md", ".pdf")), 0);  // not a PDF file at all
#else
        QSKIP("built without poppler-qt6");
#endif
    }

    void localServerSwitchServesTheModel() {
        auto* page = root_->findChild<QObject*>(QStringLiteral("serverStatus"));
        QVERIFY(page);
        QObject* settings = root_->property("settings").value<QObject*>();
        QVERIFY(settings);
        settings->setProperty("localServer", true);
        QTRY_VERIFY_WITH_TIMEOUT(page->property("text").toString().startsWith(QStringLiteral("Serving http://127.0.0.1:")), 20000);
        // A real OpenAI-compatible server answers on the port it reports.
        const QString url = page->property("text").toString().section(QLatin1Char(' '), 1, 1) + QStringLiteral("/models");
        QNetworkAccessManager nam;
        QNetworkReply* r = nam.get(QNetworkRequest(QUrl(url)));
        QSignalSpy done(r, &QNetworkReply::finished);
        QVERIFY(done.wait(10000));
        QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        r->deleteLater();
        settings->setProperty("localServer", false);
        QTRY_COMPARE_WITH_TIMEOUT(page->property("text").toString(), QStringLiteral("Stopped"), 10000);
    }

    void cleanupTestCase() {
        engine_.reset();
        app_.reset();
    }
};

QTEST_MAIN(TestUiChatWindow)
#include "test_ui_chat_window.moc"
