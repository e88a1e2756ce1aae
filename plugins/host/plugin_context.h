#pragma once
// PluginContext: the host's implementation of PluginApi for one plugin. It enforces the manifest's
// permissions (and the cloud-mode rule for "context.read"), keeps the registered handlers, the settings
// store and the plugin's running completions, and moves completion callbacks onto the plugin's thread.
// Lives on the plugin's worker thread; only close() may be called from elsewhere.
#include <QHash>
#include <functional>
#include <map>
#include <QObject>
#include <memory>
#include <mutex>

#include "api/host_services.h"
#include "api/plugin_api.h"
#include "host/manifest.h"
#include "host/settings_store.h"

namespace bonsai::plugins {

// Largest text a plugin may pass to the host in one call (prompt, inserted message ...), in characters.
inline constexpr qsizetype kMaxPluginTextChars = 1024 * 1024;

class PluginContext : public PluginApi {
public:
    // How the owner runs plugin code that arrives later (completion callbacks): it arms the time limit,
    // catches exceptions and disables the plugin on failure.
    using Runner = std::function<void(const std::function<void()>& fn)>;

    PluginContext(PluginManifest manifest, HostServices* services, const QString& settingsPath, qsizetype settingsLimit);
    ~PluginContext() override;

    // `target` is an object living on the plugin's thread: callbacks are posted to it and run through `runner`.
    void setDispatch(QObject* target, Runner runner);
    // Called after each completion finishes (with the number still running).
    void setCompletionFinished(std::function<void(int stillRunning)> fn) { completionFinished_ = std::move(fn); }
    // Where log() goes.
    void setLogSink(std::function<void(const QString&)> fn) { logSink_ = std::move(fn); }

    // Stops delivering callbacks and cancels running completions (the plugin was disabled or unloaded).
    void close();

    // The registered handlers (null when none).
    CommandHandler commandHandler(const QString& name) const { return commands_.value(name); }
    MessageActionHandler messageActionHandler(const QString& id) const { return actions_.value(id); }
    int runningCompletions() const { return static_cast<int>(running_.size()); }
    const QString& settingsLoadError() const { return settings_.loadError(); }

    // PluginApi
    QString pluginId() const override { return manifest_.id; }
    QStringList permissions() const override { return manifest_.permissions; }
    void registerCommand(const QString& name, CommandHandler handler) override;
    void registerMessageAction(const QString& id, MessageActionHandler handler) override;
    QList<ChatMessage> conversation() override;
    ChatMessage selectedMessage() override;
    quint64 complete(const QList<ChatMessage>& messages, const QVariantMap& options,
                     std::function<void(const QString& token)> onToken,
                     std::function<void(const QString& text, const QString& error)> onDone) override;
    void cancel(quint64 requestId) override;
    void insertMessage(const QString& role, const QString& content) override;
    void fillComposer(const QString& text) override;
    void notify(const QString& text) override;
    void log(const QString& text) override;
    QJsonValue setting(const QString& key) const override;
    void setSetting(const QString& key, const QJsonValue& value) override;
    QStringList settingKeys() const override { return settings_.keys(); }
    QString clipboardText() override;
    void setClipboardText(const QString& text) override;
    QList<ContextHit> contextSearch(const QString& query, int limit) override;

    // Throws PluginError naming `permission` unless the manifest declares it; `api` names the call.
    void require(const QString& permission, const QString& api) const;

private:
    // Posts work to the plugin's thread until close(); shared with the provider's callbacks.
    struct Channel {
        std::mutex mutex;
        QObject* target = nullptr;
        void post(std::function<void()> fn);
    };
    struct Running {
        std::function<void(const QString&)> onToken;
        std::function<void(const QString&, const QString&)> onDone;
        QString text;
        quint64 hostId = 0;
    };
    void checkText(const QString& text, const QString& what) const;

    PluginManifest manifest_;
    HostServices* services_;
    SettingsStore settings_;
    std::shared_ptr<Channel> channel_ = std::make_shared<Channel>();
    Runner runner_;
    std::function<void(int)> completionFinished_;
    std::function<void(const QString&)> logSink_;
    QHash<QString, CommandHandler> commands_;
    QHash<QString, MessageActionHandler> actions_;
    std::map<quint64, Running> running_;  // by our own id
    quint64 nextId_ = 1;
    bool closed_ = false;
};

}  // namespace bonsai::plugins
