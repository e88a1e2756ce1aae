#pragma once
// Downloads a model file over HTTP(S) with progress, resume and integrity check.
//
// The file grows as "<destination>.part". When a .part exists, the request asks for the rest with
// "Range: bytes=<size>-"; a 206 answer whose Content-Range starts there is appended, a 200 answer starts
// over. A connection cut mid-body is resumed the same way, up to maxRetries() times in a row. When the
// body is complete the file's SHA-256 is computed; if an expected digest was given and differs, the
// .part is deleted and the download fails. Only then is the .part renamed to the destination.
// cancel() stops at once and keeps the .part, so a later start() of the same file resumes it.
#include <QCryptographicHash>
#include <QFile>
#include <QObject>
#include <QPointer>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;

namespace bonsai::ui {

class ModelDownloader : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(qint64 received READ received NOTIFY progressChanged)
    Q_PROPERTY(qint64 total READ total NOTIFY progressChanged)
    Q_PROPERTY(double fraction READ fraction NOTIFY progressChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)
    Q_PROPERTY(QString destination READ destination NOTIFY busyChanged)
public:
    explicit ModelDownloader(QObject* parent = nullptr);
    ~ModelDownloader() override;

    // A download source as the user types it: an http(s) URL, or a Hugging Face file "org/repo/file.gguf"
    // (more path segments allowed), which becomes https://huggingface.co/org/repo/resolve/main/file.gguf.
    // Returns an invalid URL and sets *error for anything else.
    static QUrl resolveSource(const QString& source, QString* error);
    // The file name a source is saved under (the URL's last path segment).
    static QString fileNameOf(const QUrl& url);

    // Starts downloading `source` into `destinationPath`. `expectedSha256` (hex, optional) is checked at
    // the end. Returns false (and sets error) when busy or the source is not understood.
    Q_INVOKABLE bool start(const QString& source, const QString& destinationPath,
                           const QString& expectedSha256 = QString());
    // Stops the running download; cancelled() follows. The .part file stays for a later resume.
    Q_INVOKABLE void cancel();

    bool busy() const;
    qint64 received() const { return received_; }
    qint64 total() const { return total_; }
    double fraction() const { return total_ > 0 ? double(received_) / double(total_) : 0.0; }
    QString error() const { return error_; }
    QString destination() const { return destination_; }
    // How many times a cut connection is resumed before giving up (default 3).
    int maxRetries() const { return maxRetries_; }
    void setMaxRetries(int n) { maxRetries_ = n; }
    // The lowercase hex SHA-256 of the last completed download.
    QString sha256() const { return sha256_; }

signals:
    void busyChanged();
    void progressChanged();
    void errorChanged();
    void finished(const QString& path);
    void failed(const QString& message);
    void cancelled();

private:
    void sendRequest();
    void onMetaData();
    void onReadyRead();
    void onFinished();
    void fail(const QString& message, bool deletePartial);
    void complete();

    QNetworkAccessManager* nam_;
    QPointer<QNetworkReply> reply_;
    QFile part_;
    QUrl url_;
    QString destination_;
    QString expectedSha_;
    QString sha256_;
    QString error_;
    qint64 received_ = 0;
    qint64 total_ = -1;
    int retries_ = 0;
    int maxRetries_ = 3;
    bool acceptedBody_ = false;  // the current reply's status was checked and the body is being written
    bool retryPending_ = false;
    bool cancelling_ = false;
};

}  // namespace bonsai::ui
