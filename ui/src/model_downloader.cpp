#include "model_downloader.h"

#include <QDir>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QTimer>

namespace bonsai::ui {

ModelDownloader::ModelDownloader(QObject* parent) : QObject(parent), nam_(new QNetworkAccessManager(this)) {}

ModelDownloader::~ModelDownloader() {
    if (reply_) {
        reply_->disconnect(this);
        reply_->abort();
    }
}

bool ModelDownloader::busy() const { return reply_ != nullptr || retryPending_; }

QUrl ModelDownloader::resolveSource(const QString& source, QString* error) {
    const QString s = source.trimmed();
    if (s.startsWith(QStringLiteral("http://")) || s.startsWith(QStringLiteral("https://"))) {
        const QUrl url(s, QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty() || fileNameOf(url).isEmpty()) {
            if (error) *error = QObject::tr("'%1' is not a usable download URL.").arg(s);
            return {};
        }
        return url;
    }
    // Hugging Face shorthand: org/repo/path/to/file.gguf
    const QStringList parts = s.split(u'/');
    static const QRegularExpression segment(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]*$"));
    bool ok = parts.size() >= 3 && s.endsWith(QStringLiteral(".gguf"), Qt::CaseInsensitive);
    for (const QString& p : parts) ok = ok && segment.match(p).hasMatch() && p != QStringLiteral("..");
    if (!ok) {
        if (error)
            *error = QObject::tr("'%1' is neither an http(s) URL nor a Hugging Face file like "
                                 "org/repo/model.gguf.").arg(s);
        return {};
    }
    const QString file = parts.mid(2).join(u'/');
    return QUrl(QStringLiteral("https://huggingface.co/%1/%2/resolve/main/%3").arg(parts[0], parts[1], file));
}

QString ModelDownloader::fileNameOf(const QUrl& url) {
    return url.path().section(u'/', -1);
}

bool ModelDownloader::start(const QString& source, const QString& destinationPath, const QString& expectedSha256) {
    if (busy()) {
        error_ = tr("A download is already running.");
        emit errorChanged();
        return false;
    }
    QString err;
    const QUrl url = resolveSource(source, &err);
    if (!url.isValid()) {
        error_ = err;
        emit errorChanged();
        return false;
    }
    static const QRegularExpression hex(QStringLiteral("^[0-9a-fA-F]{64}$"));
    if (!expectedSha256.isEmpty() && !hex.match(expectedSha256.trimmed()).hasMatch()) {
        error_ = tr("The expected SHA-256 must be 64 hexadecimal digits.");
        emit errorChanged();
        return false;
    }
    url_ = url;
    destination_ = destinationPath;
    expectedSha_ = expectedSha256.trimmed().toLower();
    sha256_.clear();
    error_.clear();
    emit errorChanged();
    retries_ = 0;
    cancelling_ = false;
    total_ = -1;
    QDir().mkpath(QFileInfo(destinationPath).absolutePath());
    part_.setFileName(destinationPath + QStringLiteral(".part"));
    received_ = part_.exists() ? part_.size() : 0;
    emit progressChanged();
    sendRequest();
    return true;
}

void ModelDownloader::sendRequest() {
    retryPending_ = false;
    acceptedBody_ = false;
    QNetworkRequest req(url_);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    req.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Bonsai model downloader"));
    received_ = part_.exists() ? part_.size() : 0;
    if (received_ > 0) req.setRawHeader("Range", "bytes=" + QByteArray::number(received_) + "-");
    // No compression: byte offsets must be those of the file itself.
    req.setRawHeader("Accept-Encoding", "identity");
    reply_ = nam_->get(req);
    connect(reply_, &QNetworkReply::metaDataChanged, this, &ModelDownloader::onMetaData);
    connect(reply_, &QNetworkReply::readyRead, this, &ModelDownloader::onReadyRead);
    connect(reply_, &QNetworkReply::finished, this, &ModelDownloader::onFinished);
    emit busyChanged();
}

void ModelDownloader::onMetaData() {
    if (!reply_ || acceptedBody_) return;
    const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 0 || (status >= 300 && status < 400)) return;  // redirects are followed by Qt
    const qint64 length = reply_->header(QNetworkRequest::ContentLengthHeader).toLongLong();
    if (status == 206) {
        // Content-Range: bytes <first>-<last>/<size>
        static const QRegularExpression range(QStringLiteral("^bytes (\\d+)-(\\d+)/(\\d+|\\*)$"));
        const auto m = range.match(QString::fromLatin1(reply_->rawHeader("Content-Range")).trimmed());
        if (!m.hasMatch() || m.captured(1).toLongLong() != received_) {
            fail(tr("The server answered a resume request with the wrong part of the file."), true);
            return;
        }
        total_ = m.captured(3) == QStringLiteral("*") ? -1 : m.captured(3).toLongLong();
        if (!part_.open(QIODevice::WriteOnly | QIODevice::Append)) {
            fail(tr("Cannot write %1: %2").arg(part_.fileName(), part_.errorString()), false);
            return;
        }
    } else if (status == 200) {
        total_ = length > 0 ? length : -1;
        received_ = 0;  // the server ignored the range (or there was none): start over
        if (!part_.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            fail(tr("Cannot write %1: %2").arg(part_.fileName(), part_.errorString()), false);
            return;
        }
    } else if (status == 416 && received_ > 0) {
        // Range not satisfiable: the .part is already whole (or longer than the file). Check it.
        acceptedBody_ = true;
        return;
    } else {
        fail(tr("The server answered HTTP %1 %2.")
                 .arg(status)
                 .arg(reply_->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString()),
             false);
        return;
    }
    acceptedBody_ = true;
    emit progressChanged();
}

void ModelDownloader::onReadyRead() {
    if (!reply_) return;
    if (!acceptedBody_) onMetaData();
    if (!reply_ || !acceptedBody_ || !part_.isOpen()) return;
    const QByteArray data = reply_->readAll();
    if (part_.write(data) != data.size()) {
        fail(tr("Cannot write %1: %2").arg(part_.fileName(), part_.errorString()), false);
        return;
    }
    received_ += data.size();
    emit progressChanged();
}

void ModelDownloader::onFinished() {
    if (!reply_) return;
    QNetworkReply* r = reply_;
    if (acceptedBody_ && !cancelling_ && r->isOpen()) onReadyRead();  // what arrived before an error is a valid prefix of the file
    if (!reply_) return;  // failed while writing
    const auto netError = r->error();
    const QString netMessage = r->errorString();
    const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply_ = nullptr;
    r->deleteLater();
    part_.close();
    if (cancelling_) {
        cancelling_ = false;
        emit busyChanged();
        emit cancelled();
        return;
    }
    const bool cut = netError != QNetworkReply::NoError || (total_ > 0 && received_ < total_);
    if (cut && acceptedBody_ && status != 416) {
        // A cut connection after some bytes: ask for the rest.
        if (retries_ < maxRetries_) {
            ++retries_;
            retryPending_ = true;
            QTimer::singleShot(200 * retries_, this, [this] {
                if (retryPending_) sendRequest();
            });
            return;
        }
        fail(tr("The download was interrupted (%1) and could not be resumed.").arg(netMessage), false);
        return;
    }
    if (netError != QNetworkReply::NoError && !(status == 416)) {
        if (error_.isEmpty()) fail(tr("Download failed: %1").arg(netMessage), false);
        else emit busyChanged();
        return;
    }
    complete();
}

void ModelDownloader::complete() {
    QFile f(part_.fileName());
    if (!f.open(QIODevice::ReadOnly)) {
        fail(tr("Cannot read %1: %2").arg(f.fileName(), f.errorString()), false);
        return;
    }
    if (total_ > 0 && f.size() != total_) {
        f.close();
        fail(tr("The downloaded file has %1 bytes, the server announced %2.").arg(f.size()).arg(total_), true);
        return;
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&f);
    f.close();
    sha256_ = QString::fromLatin1(hash.result().toHex());
    if (!expectedSha_.isEmpty() && sha256_ != expectedSha_) {
        fail(tr("The downloaded file is damaged or not the expected one: its SHA-256 is %1, expected %2. "
                "It was deleted.").arg(sha256_, expectedSha_),
             true);
        return;
    }
    QFile::remove(destination_);
    if (!QFile::rename(part_.fileName(), destination_)) {
        fail(tr("Cannot move the download to %1.").arg(destination_), false);
        return;
    }
    received_ = total_ = QFileInfo(destination_).size();
    emit progressChanged();
    emit busyChanged();
    emit finished(destination_);
}

void ModelDownloader::fail(const QString& message, bool deletePartial) {
    retryPending_ = false;
    if (reply_) {
        QNetworkReply* r = reply_;
        reply_ = nullptr;
        r->disconnect(this);
        r->abort();
        r->deleteLater();
    }
    part_.close();
    if (deletePartial) QFile::remove(part_.fileName());
    error_ = message;
    emit errorChanged();
    emit busyChanged();
    emit failed(message);
}

void ModelDownloader::cancel() {
    if (retryPending_) {
        retryPending_ = false;
        emit busyChanged();
        emit cancelled();
        return;
    }
    if (!reply_) return;
    cancelling_ = true;
    reply_->abort();  // finished() follows, synchronously or soon
}



}  // namespace bonsai::ui
