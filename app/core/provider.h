#pragma once
// The seam between a conversation and whoever answers it. LocalProvider (the engine on a worker thread)
// and OpenAIProvider (any OpenAI-compatible endpoint) implement it; the conversation service does not
// care which one streams the reply.
#include <QList>
#include <QObject>
#include <QString>

namespace bonsai::core {

// One chat turn as a provider sees it: the role is "system", "user" or "assistant".
struct ChatTurn {
    QString role;
    QString content;
};

struct ChatRequest {
    QString model;            // the provider's model name (cloud) or ignored (local: the loaded model)
    QList<ChatTurn> messages; // the whole visible conversation, oldest first
    double temperature = -1;  // < 0: the provider's default
    double topP = -1;         // < 0: the provider's default
    int maxTokens = -1;       // < 0: no explicit limit
};

struct GenerationStats {
    int promptTokens = -1;      // as reported by the provider; -1 when unknown
    int completionTokens = 0;   // tokens streamed (cloud: chunks when the provider reports no usage)
    double secondsToFirstToken = 0;
    double tokensPerSecond = 0; // completion tokens over the streaming time
    QString finishReason;       // "stop", "length", "cancelled", ...
    QString model;              // the model that actually answered
    double promptMs = 0;        // prompt processing time (local; 0 when unknown)
    double generationMs = 0;    // decode time (local; cloud: streaming time)
    int reusedPromptTokens = 0; // prompt tokens taken from the KV cache (local prefix reuse)
};

class Provider : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    ~Provider() override = default;

    // "local" or "cloud": what the UI badge and the stored message say.
    virtual QString kind() const = 0;
    // Starts one streamed completion. Exactly one of finished() / failed() follows, after any tokens.
    // Starting while busy fails at once with a clear message.
    virtual void start(const ChatRequest& request) = 0;
    // Stops the running completion; finished() follows with finishReason "cancelled".
    virtual void stop() = 0;
    virtual bool busy() const = 0;
    // The model that will answer the next request ("" when the request's model field decides).
    virtual QString currentModel() const { return QString(); }

signals:
    void token(const QString& text);
    void finished(const bonsai::core::GenerationStats& stats);
    // A message for the user: what went wrong and what to do about it.
    void failed(const QString& message);
};

}  // namespace bonsai::core
