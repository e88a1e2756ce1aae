#pragma once
// Plain data exchanged between the plugin host, plugins and the app. Header-only and Qt Core only, so a
// native plugin (a MODULE library) can use it without linking the host.
#include <QList>
#include <QString>
#include <QVariantMap>
#include <functional>

namespace bonsai::plugins {

// One message of a conversation as plugins see it.
struct ChatMessage {
    QString id;       // stable message id from the app ("" for messages a plugin builds itself)
    QString role;     // "system", "user" or "assistant"
    QString content;  // Markdown text
};

// One hit of a personal-context search (only ever given to plugins in local mode).
struct ContextHit {
    QString title;   // the item's title (note name, document file name ...)
    QString text;    // the matching chunk
    double score = 0;  // higher is better; only comparable within one search
};

// What a plugin asks the active provider to complete.
struct CompletionRequest {
    QString pluginId;              // who asks (for logs and for the UI)
    QList<ChatMessage> messages;   // the whole prompt, oldest first
    QVariantMap options;           // optional knobs: "temperature" (double), "maxTokens" (int)
};

// How the provider reports back. Either callback may be called from any thread; the host moves them onto
// the plugin's own thread. onDone is called exactly once, last; error is empty on success.
struct CompletionCallbacks {
    std::function<void(const QString& token)> onToken;
    std::function<void(const QString& error)> onDone;
};

}  // namespace bonsai::plugins
