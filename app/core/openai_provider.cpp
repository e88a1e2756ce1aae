#include "core/openai_provider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <algorithm>

namespace bonsai::core {

namespace {
constexpr qsizetype kMaxWholeBody = 16 * 1024 * 1024;

QString hostOf(const QUrl& url) { return url.host().isEmpty() ? url.toString() : url.host(); }

QString serverErrorText(const QByteArray& body) {
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject()) {
        const QJsonValue err = doc.object().value(QStringLiteral("error"));
        if (err.isObject()) return err.toObject().value(QStringLiteral("message")).toString();
        if (err.isString()) return err.toString();
    }
    return QString();
}
}  // namespace

OpenAIProvider::OpenAIProvider(OpenAIConfig config, QObject* parent) : Provider(parent), config_(std::move(config)) {
    watchdog_.setSingleShot(true);
    connect(&watchdog_, &QTimer::timeout, this, &OpenAIProvider::onStall);
    retryTimer_.setSingleShot(true);
    connect(&retryTimer_, &QTimer::timeout, this, &OpenAIProvider::sendAttempt);
}

OpenAIProvider::~OpenAIProvider() { abortReply(); }

QNetworkRequest OpenAIProvider::makeRequest(const QString& path) const {
    QUrl url = config_.baseUrl;
    QString p = url.path();
    if (p.endsWith(QLatin1Char('/'))) p.chop(1);
    url.setPath(p + path);
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    if (!config_.apiKey.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + config_.apiKey.toUtf8());
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    req.setTransferTimeout(0);  // our own watchdog handles stalls
    return req;
}

void OpenAIProvider::start(const ChatRequest& request) {
    if (busy_) {
        emit failed(tr("A reply is already being generated; stop it first."));
        return;
    }
    if (!config_.baseUrl.isValid() || config_.baseUrl.scheme().isEmpty()) {
        emit failed(tr("The cloud endpoint URL '%1' is not valid.").arg(config_.baseUrl.toString()));
        return;
    }
    request_ = request;
    attempt_ = 0;
    busy_ = true;
    done_ = false;
    streamedAny_ = false;
    stats_ = GenerationStats{};
    stats_.model = request.model;
    firstTokenMs_ = -1;
    clock_.start();
    sendAttempt();
}

void OpenAIProvider::sendAttempt() {
    if (!busy_ || done_) return;
    ++attempt_;
    parser_ = SseParser();
    wholeBody_.clear();
    isEventStream_ = false;

    QJsonArray msgs;
    for (const ChatTurn& t : request_.messages)
        msgs.append(QJsonObject{{QStringLiteral("role"), t.role}, {QStringLiteral("content"), t.content}});
    QJsonObject body{{QStringLiteral("model"), request_.model},
                     {QStringLiteral("messages"), msgs},
                     {QStringLiteral("stream"), true},
                     {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}}};
    if (request_.temperature >= 0) body.insert(QStringLiteral("temperature"), request_.temperature);
    if (request_.topP >= 0) body.insert(QStringLiteral("top_p"), request_.topP);
    if (request_.maxTokens > 0) body.insert(QStringLiteral("max_tokens"), request_.maxTokens);

    QNetworkRequest req = makeRequest(QStringLiteral("/chat/completions"));
    req.setRawHeader("Accept", "text/event-stream");
    reply_ = nam_.post(req, QJsonDocument(body).toJson(QJsonDocument::Compact));
    connect(reply_, &QNetworkReply::readyRead, this, &OpenAIProvider::onReadyRead);
    connect(reply_, &QNetworkReply::finished, this, &OpenAIProvider::onFinished);
    watchdog_.start(config_.connectTimeoutMs);
}

void OpenAIProvider::onReadyRead() {
    if (!reply_ || done_) return;
    const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200) return;  // error bodies are read whole in onFinished
    watchdog_.start(config_.stallTimeoutMs);
    const QByteArray chunk = reply_->readAll();
    const QString ctype = reply_->header(QNetworkRequest::ContentTypeHeader).toString();
    isEventStream_ = ctype.contains(QStringLiteral("event-stream"), Qt::CaseInsensitive);
    if (!isEventStream_) {
        wholeBody_.append(chunk);
        if (wholeBody_.size() > kMaxWholeBody) fail(tr("The endpoint's reply is larger than 16 MiB; giving up."));
        return;
    }
    for (const SseEvent& e : parser_.feed(chunk)) {
        handleEvent(e);
        if (done_) return;
    }
    if (parser_.hasError()) fail(tr("The endpoint sent a malformed stream: %1.").arg(parser_.error()));
}

void OpenAIProvider::handleEvent(const SseEvent& e) {
    if (e.data == "[DONE]") {
        succeed(stats_.finishReason.isEmpty() ? QStringLiteral("stop") : stats_.finishReason);
        return;
    }
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(e.data, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
        fail(tr("The endpoint sent a malformed stream (a chunk is not JSON: %1).").arg(perr.errorString()));
        return;
    }
    const QJsonObject o = doc.object();
    if (o.contains(QStringLiteral("error"))) {
        fail(tr("The endpoint reported an error mid-reply: %1").arg(serverErrorText(e.data)));
        return;
    }
    if (o.value(QStringLiteral("model")).isString()) stats_.model = o.value(QStringLiteral("model")).toString();
    const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
    if (!usage.isEmpty()) {
        stats_.promptTokens = usage.value(QStringLiteral("prompt_tokens")).toInt(-1);
        const int ct = usage.value(QStringLiteral("completion_tokens")).toInt(-1);
        if (ct >= 0) stats_.completionTokens = ct;
    }
    for (const QJsonValue& cv : o.value(QStringLiteral("choices")).toArray()) {
        const QJsonObject choice = cv.toObject();
        const QString text = choice.value(QStringLiteral("delta")).toObject().value(QStringLiteral("content")).toString();
        if (!text.isEmpty()) {
            if (firstTokenMs_ < 0) firstTokenMs_ = clock_.elapsed();
            streamedAny_ = true;
            if (usage.isEmpty()) ++stats_.completionTokens;
            emit token(text);
        }
        const QJsonValue fr = choice.value(QStringLiteral("finish_reason"));
        if (fr.isString()) stats_.finishReason = fr.toString();
    }
}

void OpenAIProvider::handleWholeJson(const QByteArray& body) {
    // A server that ignored "stream": true answers with one chat.completion object.
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
        fail(tr("The endpoint's reply is not valid JSON (%1).").arg(perr.errorString()));
        return;
    }
    const QJsonObject o = doc.object();
    const QJsonArray choices = o.value(QStringLiteral("choices")).toArray();
    if (choices.isEmpty()) {
        fail(tr("The endpoint's reply has no choices."));
        return;
    }
    const QJsonObject choice = choices.first().toObject();
    const QString text = choice.value(QStringLiteral("message")).toObject().value(QStringLiteral("content")).toString();
    stats_.model = o.value(QStringLiteral("model")).toString(stats_.model);
    const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
    stats_.promptTokens = usage.value(QStringLiteral("prompt_tokens")).toInt(-1);
    stats_.completionTokens = usage.value(QStringLiteral("completion_tokens")).toInt(text.isEmpty() ? 0 : 1);
    if (!text.isEmpty()) {
        firstTokenMs_ = clock_.elapsed();
        emit token(text);
    }
    succeed(choice.value(QStringLiteral("finish_reason")).toString(QStringLiteral("stop")));
}

void OpenAIProvider::onFinished() {
    if (!reply_ || done_) return;
    QNetworkReply* r = reply_;
    watchdog_.stop();
    const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const auto err = r->error();
    const QByteArray rest = r->readAll();
    r->deleteLater();
    reply_ = nullptr;

    if (status == 200) {
        if (!isEventStream_) {
            const QString ctype = r->header(QNetworkRequest::ContentTypeHeader).toString();
            isEventStream_ = ctype.contains(QStringLiteral("event-stream"), Qt::CaseInsensitive);
        }
        if (isEventStream_) {
            QList<SseEvent> events = parser_.feed(rest);
            events += parser_.finish();
            for (const SseEvent& e : events) {
                handleEvent(e);
                if (done_) return;
            }
            if (parser_.hasError()) {
                fail(tr("The endpoint sent a malformed stream: %1.").arg(parser_.error()));
                return;
            }
            if (err != QNetworkReply::NoError || !stats_.finishReason.isEmpty()) {
                if (stats_.finishReason.isEmpty()) {
                    fail(tr("The connection to %1 dropped in the middle of the reply; the partial answer was kept.")
                             .arg(hostOf(config_.baseUrl)));
                } else {
                    succeed(stats_.finishReason);
                }
                return;
            }
            fail(tr("The stream from %1 ended without finishing the reply; the partial answer was kept.")
                     .arg(hostOf(config_.baseUrl)));
            return;
        }
        wholeBody_.append(rest);
        handleWholeJson(wholeBody_);
        return;
    }

    const bool retryable = !streamedAny_ && (status == 429 || status >= 500 || err == QNetworkReply::ConnectionRefusedError ||
                                             err == QNetworkReply::RemoteHostClosedError);
    if (retryable && attempt_ <= config_.maxRetries) {
        int delay = std::min(config_.backoffBaseMs << std::min(attempt_ - 1, 10), 8000);
        const QByteArray retryAfter = r->rawHeader("Retry-After");
        bool ok = false;
        const int seconds = retryAfter.toInt(&ok);
        if (ok && seconds >= 0) delay = std::min(seconds * 1000, 30000);
        retryTimer_.start(delay);
        return;
    }
    if (status != 0) {
        fail(httpErrorMessage(status, rest));
    } else {
        fail(networkErrorMessage(err, r->errorString()));
    }
}

void OpenAIProvider::onStall() {
    if (!busy_ || done_) return;
    const bool beforeHeaders = !streamedAny_ && (!reply_ || !reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).isValid());
    abortReply();
    if (beforeHeaders) {
        fail(tr("%1 did not answer within %2 s.").arg(hostOf(config_.baseUrl)).arg(config_.connectTimeoutMs / 1000.0));
    } else {
        fail(tr("%1 stopped sending for %2 s in the middle of the reply; the partial answer was kept.")
                 .arg(hostOf(config_.baseUrl))
                 .arg(config_.stallTimeoutMs / 1000.0));
    }
}

QString OpenAIProvider::httpErrorMessage(int status, const QByteArray& body) const {
    const QString detail = serverErrorText(body);
    const QString suffix = detail.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(detail.left(300));
    if (status == 401 || status == 403)
        return tr("The cloud endpoint rejected the API key (HTTP %1). Check the key in Settings.").arg(status) + suffix;
    if (status == 404 && (detail.contains(QStringLiteral("model"), Qt::CaseInsensitive) || !request_.model.isEmpty()))
        return tr("The cloud endpoint does not know the model '%1' (HTTP 404). Pick another model.").arg(request_.model) + suffix;
    if (status == 429)
        return tr("The cloud endpoint is rate-limiting requests (HTTP 429) and still refused after %1 retries. Try again later.")
                   .arg(config_.maxRetries) + suffix;
    if (status >= 500)
        return tr("The cloud endpoint had a server error (HTTP %1) after %2 retries. Try again later.").arg(status).arg(config_.maxRetries) +
               suffix;
    return tr("The cloud endpoint refused the request (HTTP %1).").arg(status) + suffix;
}

QString OpenAIProvider::networkErrorMessage(int error, const QString& detail) const {
    const QString host = hostOf(config_.baseUrl);
    switch (error) {
    case QNetworkReply::SslHandshakeFailedError:
        return tr("The secure (TLS) connection to %1 failed: %2. Check the URL and the server's certificate.").arg(host, detail);
    case QNetworkReply::HostNotFoundError:
        return tr("Cannot find %1. Check the endpoint URL and your network connection.").arg(host);
    case QNetworkReply::ConnectionRefusedError:
        return tr("%1 refused the connection. Is the server running and the port right?").arg(host);
    case QNetworkReply::TimeoutError:
    case QNetworkReply::OperationCanceledError:
        return tr("The request to %1 timed out.").arg(host);
    case QNetworkReply::RemoteHostClosedError:
        return tr("%1 closed the connection before answering.").arg(host);
    default:
        return tr("Cannot reach %1: %2. Check your network connection.").arg(host, detail);
    }
}

void OpenAIProvider::fail(const QString& message) {
    if (done_) return;
    done_ = true;
    busy_ = false;
    watchdog_.stop();
    retryTimer_.stop();
    abortReply();
    emit failed(message);
}

void OpenAIProvider::succeed(const QString& finishReason) {
    if (done_) return;
    done_ = true;
    busy_ = false;
    watchdog_.stop();
    retryTimer_.stop();
    abortReply();
    stats_.finishReason = finishReason;
    const double total = clock_.elapsed() / 1000.0;
    stats_.secondsToFirstToken = firstTokenMs_ < 0 ? total : firstTokenMs_ / 1000.0;
    const double streaming = total - stats_.secondsToFirstToken;
    stats_.tokensPerSecond = streaming > 0 ? stats_.completionTokens / streaming : 0;
    emit finished(stats_);
}

void OpenAIProvider::stop() {
    if (!busy_) return;
    succeed(QStringLiteral("cancelled"));
}

void OpenAIProvider::abortReply() {
    if (reply_) {
        QNetworkReply* r = reply_;
        reply_ = nullptr;
        r->disconnect(this);
        r->abort();
        r->deleteLater();
    }
}

void OpenAIProvider::fetchModels() {
    QNetworkReply* r = nam_.get(makeRequest(QStringLiteral("/models")));
    auto* timer = new QTimer(r);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, r, &QNetworkReply::abort);
    timer->start(config_.connectTimeoutMs);
    connect(r, &QNetworkReply::finished, this, [this, r] {
        r->deleteLater();
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = r->read(kMaxWholeBody);
        if (status != 200) {
            emit modelsFailed(status ? httpErrorMessage(status, body) : networkErrorMessage(r->error(), r->errorString()));
            return;
        }
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        if (!doc.isObject() || !doc.object().value(QStringLiteral("data")).isArray()) {
            emit modelsFailed(tr("The endpoint's model list is not in the OpenAI format."));
            return;
        }
        QStringList ids;
        for (const QJsonValue& v : doc.object().value(QStringLiteral("data")).toArray()) {
            const QString id = v.toObject().value(QStringLiteral("id")).toString();
            if (!id.isEmpty()) ids << id;
        }
        emit modelsListed(ids);
    });
}

}  // namespace bonsai::core
