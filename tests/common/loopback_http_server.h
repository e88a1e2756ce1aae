#pragma once
// A scriptable HTTP/1.1 server on 127.0.0.1 for tests: real sockets, real bytes. Each incoming request
// is recorded and answered by the next scripted Response (the last one repeats). Responses can stream
// chunks with delays, drop the connection mid-body or stall, to inject faults.
#include <QByteArray>
#include <QList>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace bonsai::test {

struct RecordedRequest {
    QByteArray method, path;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QByteArray header(const QByteArray& name) const {
        for (const auto& h : headers)
            if (h.first.compare(name, Qt::CaseInsensitive) == 0) return h.second;
        return {};
    }
};

struct Response {
    int status = 200;
    QList<QPair<QByteArray, QByteArray>> headers;  // Content-Type etc.
    QList<QByteArray> chunks;                       // body pieces, written with `chunkDelayMs` between them
    int chunkDelayMs = 0;
    bool dropAfterChunks = false;  // close the socket after the chunks without finishing the body
    bool stallAfterChunks = false; // keep the socket open and silent after the chunks
};

class LoopbackHttpServer : public QObject {
    Q_OBJECT
public:
    explicit LoopbackHttpServer(QObject* parent = nullptr) : QObject(parent) {
        connect(&server_, &QTcpServer::newConnection, this, &LoopbackHttpServer::onConnection);
        server_.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return server_.serverPort(); }
    QByteArray baseUrl() const { return "http://127.0.0.1:" + QByteArray::number(port()) + "/v1"; }
    void script(QList<Response> responses) { script_ = std::move(responses); next_ = 0; }
    const QList<RecordedRequest>& requests() const { return requests_; }

    static Response sse(const QList<QByteArray>& dataLines, int delayMs = 0) {
        Response r;
        r.headers = {{"Content-Type", "text/event-stream"}};
        for (const QByteArray& d : dataLines) r.chunks << "data: " + d + "\n\n";
        r.chunkDelayMs = delayMs;
        return r;
    }
    static Response json(int status, const QByteArray& body) {
        Response r;
        r.status = status;
        r.headers = {{"Content-Type", "application/json"}};
        r.chunks = {body};
        return r;
    }

private slots:
    void onConnection() {
        while (QTcpSocket* s = server_.nextPendingConnection()) {
            auto* buffer = new QByteArray;
            connect(s, &QTcpSocket::readyRead, this, [this, s, buffer] {
                buffer->append(s->readAll());
                if (buffer->startsWith('\x16')) {  // a TLS ClientHello: answer plain text, as a misconfigured server would
                    s->write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nplain HTTP spoken here\n");
                    s->disconnectFromHost();
                    return;
                }
                const qsizetype headerEnd = buffer->indexOf("\r\n\r\n");
                if (headerEnd < 0) return;
                RecordedRequest req;
                const QList<QByteArray> lines = buffer->left(headerEnd).split('\n');
                const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
                req.method = first.value(0);
                req.path = first.value(1);
                qsizetype length = 0;
                for (int i = 1; i < lines.size(); ++i) {
                    const qsizetype c = lines[i].indexOf(':');
                    if (c < 0) continue;
                    const QByteArray k = lines[i].left(c).trimmed(), v = lines[i].mid(c + 1).trimmed();
                    req.headers.append({k, v});
                    if (k.compare("content-length", Qt::CaseInsensitive) == 0) length = v.toLongLong();
                }
                if (buffer->size() < headerEnd + 4 + length) return;
                req.body = buffer->mid(headerEnd + 4, length);
                buffer->remove(0, headerEnd + 4 + length);
                requests_.append(req);
                respond(s, script_.isEmpty() ? json(500, "{}") : script_[std::min<qsizetype>(next_++, script_.size() - 1)]);
            });
            connect(s, &QTcpSocket::disconnected, this, [s, buffer] {
                delete buffer;
                s->deleteLater();
            });
        }
    }

private:
    void respond(QTcpSocket* s, const Response& r) {
        QByteArray head = "HTTP/1.1 " + QByteArray::number(r.status) + (r.status == 200 ? " OK" : " Error") + "\r\n";
        bool hasLength = !r.dropAfterChunks && !r.stallAfterChunks;
        QByteArray whole;
        for (const QByteArray& c : r.chunks) whole += c;
        for (const auto& h : r.headers) head += h.first + ": " + h.second + "\r\n";
        if (hasLength && r.chunkDelayMs == 0) head += "Content-Length: " + QByteArray::number(whole.size()) + "\r\n";
        head += "Connection: close\r\n\r\n";
        s->write(head);
        QPointer<QTcpSocket> sock(s);
        int delay = 0;
        for (const QByteArray& c : r.chunks) {
            delay += r.chunkDelayMs;
            QTimer::singleShot(delay, this, [sock, c] {
                if (sock) sock->write(c);
            });
        }
        QTimer::singleShot(delay + 1, this, [sock, r] {
            if (!sock) return;
            if (r.stallAfterChunks) return;  // keep it open, say nothing
            sock->flush();
            if (r.dropAfterChunks) {
                sock->abort();
            } else {
                sock->disconnectFromHost();
            }
        });
    }

    QTcpServer server_;
    QList<Response> script_;
    qsizetype next_ = 0;
    QList<RecordedRequest> requests_;
};

}  // namespace bonsai::test
