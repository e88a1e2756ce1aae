#pragma once
// PluginApi: what a plugin may call. JavaScript plugins reach it through the `bonsai` object (see
// docs/plugins.md); native plugins get a pointer in BonsaiPluginInterface::initialize(). The host's
// implementation checks the manifest's permissions on every call.
//
// Every method is called on the plugin's own worker thread and may throw PluginError (a missing
// permission, a bad argument, a size limit). Handlers and completion callbacks run on that thread too.
#include <QJsonValue>
#include <QStringList>
#include <stdexcept>

#include "api/types.h"

namespace bonsai::plugins {

// A refused API call. what() is a readable sentence naming the cause, e.g. the missing permission.
class PluginError : public std::runtime_error {
public:
    explicit PluginError(const QString& message) : std::runtime_error(message.toStdString()) {}
    QString message() const { return QString::fromStdString(what()); }
};

// A slash command handler: `args` is the text after "/name " (may be empty).
using CommandHandler = std::function<void(const QString& args)>;
// A message action handler: the message it was invoked on and an optional argument chosen in the UI
// (a target language, the text of the code block the user clicked ...).
using MessageActionHandler = std::function<void(const ChatMessage& message, const QString& argument)>;

class PluginApi {
public:
    virtual ~PluginApi() = default;

    // The plugin's manifest id and its granted permissions.
    virtual QString pluginId() const = 0;
    virtual QStringList permissions() const = 0;

    // Registers a handler for a command / message action that plugin.json declares under "contributes".
    // Throws PluginError for an undeclared name.
    virtual void registerCommand(const QString& name, CommandHandler handler) = 0;
    virtual void registerMessageAction(const QString& id, MessageActionHandler handler) = 0;

    // "conversation.read"
    virtual QList<ChatMessage> conversation() = 0;
    virtual ChatMessage selectedMessage() = 0;

    // "model": starts a streamed completion; callbacks run later on the plugin's thread. onDone gets the
    // whole text and an error ("" on success). Returns a request id for cancel().
    virtual quint64 complete(const QList<ChatMessage>& messages, const QVariantMap& options,
                             std::function<void(const QString& token)> onToken,
                             std::function<void(const QString& text, const QString& error)> onDone) = 0;
    virtual void cancel(quint64 requestId) = 0;

    // No permission needed: these only act through the UI, where the user sees them.
    virtual void insertMessage(const QString& role, const QString& content) = 0;
    virtual void fillComposer(const QString& text) = 0;
    virtual void notify(const QString& text) = 0;
    virtual void log(const QString& text) = 0;

    // The plugin's own small key/value store (persisted as JSON, size-limited; set throws past the limit).
    virtual QJsonValue setting(const QString& key) const = 0;
    virtual void setSetting(const QString& key, const QJsonValue& value) = 0;
    virtual QStringList settingKeys() const = 0;

    // "clipboard"
    virtual QString clipboardText() = 0;
    virtual void setClipboardText(const QString& text) = 0;

    // "context.read": never granted while the conversation is in cloud mode (throws then).
    virtual QList<ContextHit> contextSearch(const QString& query, int limit) = 0;
};

}  // namespace bonsai::plugins
