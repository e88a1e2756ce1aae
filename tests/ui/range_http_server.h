#pragma once
// A loopback HTTP/1.1 file server for the downloader tests: serves one body at any path, honours
// "Range: bytes=N-" with 206 + Content-Range, and can inject faults: cut the connection after a number
// of body bytes (for the first `cutRequests` requests), ignore ranges (answer 200), or send slowly.
#include <QByteArray>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace bonsai::test {

class RangeHttpServer : public QObject {
    Q_OBJECT
public:
    explicit RangeHttpServer(QByteArray body, QObject* parent = nullptr) : QObject(parent), body_(std::move(body)) {
        connect(&server_, &QTcpServer::newConnection, this, &RangeHttpServer::onConnection);
        server_.listen(QHostAddress::LocalHost, 0);
    }
    QString url(const QString& path = QStringLiteral("/models/tiny.gguf")) const {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(server_.serverPort()).arg(path);
    }

    int cutAfterBytes = -1;   // >= 0: close the socket after this many body bytes ...
    int cutRequests = 0;      // ... for this many requests
    bool ignoreRanges = false;
    int chunkBytes = 0;       // > 0: send the body in pieces of this size ...
    int chunkDelayMs = 0;     // ... with this delay between them
    QList<QByteArray> rangeHeaders;  // the Range header of every request ("" when absent)

private slots:
    void onConnection() {
        while (QTcpSocket* s = server_.nextPendingConnection()) {
            auto* buffer = new QByteArray;
            connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            connect(s, &QObject::destroyed, this, [buffer] { delete buffer; });
            connect(s, &QTcpSocket::readyRead, this, [this, s, buffer] {
                buffer->append(s->readAll());
                const qsizetype end = buffer->indexOf("\r\n\r\n");
                if (end < 0) return;
                QByteArray range;
                for (const QByteArray& line : buffer->left(end).split('\n'))
                    if (line.toLower().startsWith("range:")) range = line.mid(6).trimmed();
                buffer->clear();
                rangeHeaders << range;
                answer(s, range);
            });
        }
    }

private:
    void answer(QTcpSocket* s, const QByteArray& range) {
        qint64 from = 0;
        if (!ignoreRanges && range.startsWith("bytes=") && range.endsWith("-")) from = range.mid(6, range.size() - 7).toLongLong();
        QByteArray head;
        if (from > 0 && from >= body_.size()) {
            head = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" + QByteArray::number(body_.size()) +
                   "\r\nContent-Length: 0\r\n\r\n";
            s->write(head);
            return;
        }
        QByteArray payload = body_.mid(from);
        if (from > 0)
            head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + QByteArray::number(from) + "-" +
                   QByteArray::number(body_.size() - 1) + "/" + QByteArray::number(body_.size()) + "\r\n";
        else
            head = "HTTP/1.1 200 OK\r\n";
        head += "Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\nContent-Length: " +
                QByteArray::number(payload.size()) + "\r\n\r\n";
        s->write(head);
        const bool cut = cutAfterBytes >= 0 && served_ < cutRequests;
        ++served_;
        if (cut) {
            s->write(payload.left(cutAfterBytes));
            s->disconnectFromHost();  // closes once the bytes are out: the body ends short of Content-Length
            return;
        }
        if (chunkBytes <= 0) {
            s->write(payload);
            return;
        }
        sendChunks(s, payload, 0);
    }
    void sendChunks(QTcpSocket* s, QByteArray payload, qsizetype at) {
        if (s->state() != QAbstractSocket::ConnectedState || at >= payload.size()) return;
        s->write(payload.mid(at, chunkBytes));
        QTimer::singleShot(chunkDelayMs, s, [this, s, payload, at] { sendChunks(s, payload, at + chunkBytes); });
    }

    QTcpServer server_;
    QByteArray body_;
    int served_ = 0;
};

}  // namespace bonsai::test
