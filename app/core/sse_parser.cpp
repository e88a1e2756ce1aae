#include "core/sse_parser.h"

namespace bonsai::core {

QList<SseEvent> SseParser::feed(const QByteArray& bytes) {
    QList<SseEvent> out;
    if (hasError()) return out;
    buffer_.append(bytes);
    qsizetype start = 0;
    while (true) {
        qsizetype nl = -1;
        for (qsizetype i = start; i < buffer_.size(); ++i) {
            if (buffer_[i] == '\n' || buffer_[i] == '\r') {
                nl = i;
                break;
            }
        }
        if (nl < 0) break;
        // "\r\n" counts as one line end; a lone '\r' at the end of the buffer waits for more bytes.
        qsizetype next = nl + 1;
        if (buffer_[nl] == '\r') {
            if (nl + 1 >= buffer_.size()) break;
            if (buffer_[nl + 1] == '\n') next = nl + 2;
        }
        processLine(buffer_.mid(start, nl - start), out);
        if (hasError()) return out;
        start = next;
    }
    buffer_.remove(0, start);
    if (buffer_.size() > maxEventBytes_) error_ = QStringLiteral("an event-stream line is longer than %1 bytes").arg(maxEventBytes_);
    return out;
}

QList<SseEvent> SseParser::finish() {
    QList<SseEvent> out;
    if (hasError()) return out;
    if (!buffer_.isEmpty()) processLine(buffer_, out);
    buffer_.clear();
    processLine(QByteArray(), out);  // dispatch a pending event
    return out;
}

void SseParser::processLine(QByteArray line, QList<SseEvent>& out) {
    if (line.isEmpty()) {
        if (hasData_) out.append(current_);
        current_ = SseEvent{};
        hasData_ = false;
        return;
    }
    if (line.startsWith(':')) return;  // comment / keep-alive
    const qsizetype colon = line.indexOf(':');
    QByteArray field = colon < 0 ? line : line.left(colon);
    QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
    if (value.startsWith(' ')) value.remove(0, 1);
    if (field == "data") {
        if (hasData_) current_.data.append('\n');
        current_.data.append(value);
        hasData_ = true;
        if (current_.data.size() > maxEventBytes_)
            error_ = QStringLiteral("an event-stream event is larger than %1 bytes").arg(maxEventBytes_);
    } else if (field == "event") {
        current_.event = QString::fromUtf8(value);
    }
    // "id" and "retry" are not used by chat completions; unknown fields are ignored as the spec says.
}

}  // namespace bonsai::core
