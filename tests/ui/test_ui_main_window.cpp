// The real main window QML, loaded offscreen: it shows the conversation list model and a message box.
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QtTest>

#include "conversation_list_model.h"
#include "main_window_loader.h"

using namespace bonsai::ui;

class TestUiMainWindow : public QObject {
    Q_OBJECT
private slots:
    void listModelSortsPinnedFirstThenRecent() {
        ConversationListModel m;
        QSignalSpy counted(&m, &ConversationListModel::countChanged);
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1000);
        m.setRows({{1, "old", false, "local", t0}, {2, "new", false, "cloud", t0.addSecs(60)}, {3, "pinned", true, "local", t0}});
        QCOMPARE(counted.count(), 1);
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(m.data(m.index(0), ConversationListModel::TitleRole).toString(), QStringLiteral("pinned"));
        QCOMPARE(m.data(m.index(1), ConversationListModel::TitleRole).toString(), QStringLiteral("new"));
        QCOMPARE(m.data(m.index(2), ConversationListModel::IdRole).toLongLong(), 1);
        QVERIFY(!m.data(m.index(3), ConversationListModel::TitleRole).isValid());
    }

    void windowLoadsWithEmptyListAndMessageBox() {
        ConversationListModel conversations;
        QQmlApplicationEngine engine;
        QObject* root = loadMainWindow(engine, {&conversations, QStringLiteral("tiny")});
        QVERIFY(root);
        auto* window = qobject_cast<QQuickWindow*>(root);
        QVERIFY(window);
        QCOMPARE(window->title(), QStringLiteral("Bonsai"));
        auto* list = root->findChild<QQuickItem*>(QStringLiteral("conversationList"));
        QVERIFY(list);
        QCOMPARE(list->property("count").toInt(), 0);
        auto* box = root->findChild<QQuickItem*>(QStringLiteral("messageBox"));
        QVERIFY(box);
        auto* send = root->findChild<QQuickItem*>(QStringLiteral("sendButton"));
        QVERIFY(send);
        QVERIFY(!send->property("enabled").toBool());  // nothing typed yet
        box->setProperty("text", QStringLiteral("hello"));
        QVERIFY(send->property("enabled").toBool());
        auto* label = root->findChild<QQuickItem*>(QStringLiteral("modelLabel"));
        QVERIFY(label->property("text").toString().contains(QStringLiteral("tiny")));

        // The list follows its model.
        conversations.setRows({{7, QStringLiteral("First chat"), false, QStringLiteral("local"), QDateTime::currentDateTime()}});
        QTRY_COMPARE(list->property("count").toInt(), 1);
    }
};

QTEST_MAIN(TestUiMainWindow)
#include "test_ui_main_window.moc"
