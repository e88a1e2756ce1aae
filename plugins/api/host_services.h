#pragma once
// HostServices: everything the plugin host needs from the application. app/core implements it for the
// desktop app, app/cli for `bonsai-cli plugin run`, tests with a fake.
//
// Threading: every method is called from plugin worker threads (one per plugin, several at once), so an
// implementation must be thread-safe (lock, or marshal to its own thread and wait). The host checks
// permissions before calling; implementations need not check them again.
#include <QJsonValue>

#include "api/types.h"

namespace bonsai::plugins {

class HostServices {
public:
    virtual ~HostServices() = default;

    // The visible conversation, oldest message first (permission "conversation.read").
    virtual QList<ChatMessage> conversation() = 0;
    // The message the user has selected, or a message with an empty id when none is (permission "conversation.read").
    virtual ChatMessage selectedMessage() = 0;

    // True while the active conversation is answered by a cloud provider. The host never grants
    // "context.read" then, so personal context cannot reach a cloud request through a plugin.
    virtual bool isCloudMode() = 0;

    // Starts a streamed completion on the active provider (permission "model"). Returns a request id
    // (non-zero) for cancelCompletion. Callbacks may be called from any thread, even before this returns.
    virtual quint64 startCompletion(const CompletionRequest& request, CompletionCallbacks callbacks) = 0;
    // Stops a running completion; its onDone still follows (with an error such as "cancelled").
    virtual void cancelCompletion(quint64 requestId) = 0;

    // Searches the personal context store (permission "context.read", local mode only).
    virtual QList<ContextHit> contextSearch(const QString& query, int limit) = 0;

    // Adds a message to the conversation on the plugin's behalf (shown as coming from the plugin).
    virtual void insertMessage(const QString& pluginId, const ChatMessage& message) = 0;
    // Replaces the text of the message composer (the user still decides whether to send it).
    virtual void fillComposer(const QString& pluginId, const QString& text) = 0;
    // Shows a short notification (toast) from a plugin; the CLI prints it to stderr.
    virtual void notify(const QString& pluginId, const QString& text) = 0;

    // The clipboard as plain text (permission "clipboard").
    virtual QString clipboardText() = 0;
    virtual void setClipboardText(const QString& text) = 0;
};

}  // namespace bonsai::plugins
