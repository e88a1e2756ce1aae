#pragma once
// AppHostServices: the plugin host's HostServices over a ConversationService. Plugins call it from their
// worker threads; every call is carried onto the service's thread (where the service, its database
// connection and the providers live) and waited for, at most kCallTimeoutMs, so a plugin thread never
// blocks forever on a busy or shutting-down GUI thread (a timed-out call answers as if nothing was there).
// Completion callbacks run on the service's thread, which HostServices allows.
#include <QPointer>
#include <QString>
#include <atomic>
#include <functional>
#include <mutex>

#include "api/host_services.h"
#include "core/conversation_service.h"

namespace bonsai::core {

class AppHostServices : public plugins::HostServices {
public:
    static constexpr int kCallTimeoutMs = 10000;

    explicit AppHostServices(ConversationService* service);
    ~AppHostServices() override;

    // The clipboard is a GUI matter: the app installs accessors (called on the service's thread).
    // Without them an in-process clipboard is used.
    void setClipboardAccess(std::function<QString()> get, std::function<void(const QString&)> set);
    // From now on every call answers at once with nothing (call before tearing the plugin host down).
    void shutdown() { closed_ = true; }

    QList<plugins::ChatMessage> conversation() override;
    plugins::ChatMessage selectedMessage() override;
    bool isCloudMode() override;
    quint64 startCompletion(const plugins::CompletionRequest& request, plugins::CompletionCallbacks callbacks) override;
    void cancelCompletion(quint64 requestId) override;
    QList<plugins::ContextHit> contextSearch(const QString& query, int limit) override;
    void insertMessage(const QString& pluginId, const plugins::ChatMessage& message) override;
    void fillComposer(const QString& pluginId, const QString& text) override;
    void notify(const QString& pluginId, const QString& text) override;
    QString clipboardText() override;
    void setClipboardText(const QString& text) override;

private:
    // Runs fn(service) on the service's thread and returns its result; `fallback` when the service is
    // gone, shut down or did not answer in time.
    template <class T>
    T call(std::function<T(ConversationService&)> fn, T fallback);

    QPointer<ConversationService> service_;
    std::atomic<bool> closed_{false};
    std::mutex clipboardMutex_;
    std::function<QString()> getClipboard_;
    std::function<void(const QString&)> setClipboard_;
    QString clipboard_;
};

}  // namespace bonsai::core
