#pragma once
// OpenAIProvider: any OpenAI-compatible endpoint (OpenAI, llama.cpp's server, LM Studio, Jan, Ollama's
// /v1, or `bonsai-cli serve`). GET {base}/models lists models; POST {base}/chat/completions streams the
// reply as Server-Sent Events. Retries 429 and 5xx with exponential backoff (honouring Retry-After) as
// long as nothing has been streamed yet; every failure becomes one readable message.
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QUrl>

#include "core/provider.h"
#include "core/sse_parser.h"

class QNetworkReply;

namespace bonsai::core {

struct OpenAIConfig {
    QUrl baseUrl;             // e.g. https://api.openai.com/v1 (the "/v1" part included)
    QString apiKey;           // sent as "Authorization: Bearer"; never logged or stored by this class
    int connectTimeoutMs = 15000;  // until the response headers arrive
    int stallTimeoutMs = 30000;    // longest silence allowed while streaming
    int maxRetries = 3;            // for 429 / 5xx / connection refused before the first token
    int backoffBaseMs = 500;       // first retry delay; doubles each time (capped at 8 s)
};

class OpenAIProvider : public Provider {
    Q_OBJECT
public:
    explicit OpenAIProvider(OpenAIConfig config, QObject* parent = nullptr);
    ~OpenAIProvider() override;

    QString kind() const override { return QStringLiteral("cloud"); }
    void start(const ChatRequest& request) override;
    void stop() override;
    bool busy() const override { return busy_; }

    // Lists the endpoint's models: emits modelsListed or modelsFailed.
    void fetchModels();
    const OpenAIConfig& config() const { return config_; }

signals:
    void modelsListed(const QStringList& models);
    void modelsFailed(const QString& message);

private:
    void sendAttempt();
    void onReadyRead();
    void onFinished();
    void onStall();
    void fail(const QString& message);
    void succeed(const QString& finishReason);
    void handleEvent(const SseEvent& e);
    void handleWholeJson(const QByteArray& body);
    void abortReply();
    QString httpErrorMessage(int status, const QByteArray& body) const;
    QString networkErrorMessage(int error, const QString& detail) const;
    QNetworkRequest makeRequest(const QString& path) const;

    OpenAIConfig config_;
    QNetworkAccessManager nam_;
    QPointer<QNetworkReply> reply_;
    QTimer watchdog_;
    QTimer retryTimer_;
    ChatRequest request_;
    SseParser parser_;
    QElapsedTimer clock_;
    GenerationStats stats_;
    int attempt_ = 0;
    bool busy_ = false;
    bool streamedAny_ = false;
    bool done_ = false;
    bool isEventStream_ = false;
    QByteArray wholeBody_;
    qint64 firstTokenMs_ = -1;
};

}  // namespace bonsai::core
