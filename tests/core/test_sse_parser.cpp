// The event-stream parser: arbitrary splits, CRLF, comments, multi-line data, limits.
#include <QtTest>

#include "core/sse_parser.h"

using bonsai::core::SseParser;

class TestSseParser : public QObject {
    Q_OBJECT
private slots:
    void splitsAnywhere() {
        const QByteArray stream = ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
        for (int split = 1; split < stream.size(); ++split) {
            SseParser p;
            auto events = p.feed(stream.left(split));
            events += p.feed(stream.mid(split));
            events += p.finish();
            QCOMPARE(events.size(), 3);
            QCOMPARE(events[0].data, QByteArray("{\"a\":1}"));
            QCOMPARE(events[1].event, QStringLiteral("x"));
            QCOMPARE(events[1].data, QByteArray("line1\nline2"));
            QCOMPARE(events[2].data, QByteArray("[DONE]"));
        }
    }
    void lastEventWithoutBlankLine() {
        SseParser p;
        auto events = p.feed("data: tail");
        QVERIFY(events.isEmpty());
        events = p.finish();
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("tail"));
    }
    void overlongLineIsAnError() {
        SseParser p(1024);
        p.feed("data: " + QByteArray(4096, 'x'));
        QVERIFY(p.hasError());
        QVERIFY(p.feed("\n\n").isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSseParser)
#include "test_sse_parser.moc"
