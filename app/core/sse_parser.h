#pragma once
// Incremental parser for a text/event-stream body (the Server-Sent Events format OpenAI-compatible
// servers stream with). Bytes arrive in arbitrary pieces; complete events come out. The input is
// untrusted: an over-long line or event is an error, never an unbounded buffer.
#include <QByteArray>
#include <QList>
#include <QString>

namespace bonsai::core {

struct SseEvent {
    QString event;   // the "event:" field, empty for the default "message"
    QByteArray data; // every "data:" line of the event joined with '\n'
};

class SseParser {
public:
    explicit SseParser(qsizetype maxEventBytes = 4 * 1024 * 1024) : maxEventBytes_(maxEventBytes) {}
    // Feeds bytes; returns the events they complete. After an error, returns nothing more.
    QList<SseEvent> feed(const QByteArray& bytes);
    // Ends the stream: a final event without its blank line is still delivered.
    QList<SseEvent> finish();
    bool hasError() const { return !error_.isEmpty(); }
    const QString& error() const { return error_; }

private:
    void processLine(QByteArray line, QList<SseEvent>& out);
    qsizetype maxEventBytes_;
    QByteArray buffer_;
    SseEvent current_;
    bool hasData_ = false;
    QString error_;
};

}  // namespace bonsai::core
