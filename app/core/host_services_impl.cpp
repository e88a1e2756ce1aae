#include "core/host_services_impl.h"

#include <QThread>
#include <QVariant>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>

namespace bonsai::core {

namespace {

plugins::ChatMessage toPlugin(const MessageView& m) {
    return {QString::number(m.id), m.role, m.content};
}

}  // namespace

AppHostServices::AppHostServices(ConversationService* service) : service_(service) {}

AppHostServices::~AppHostServices() { closed_ = true; }

template <class T>
T AppHostServices::call(std::function<T(ConversationService&)> fn, T fallback) {
    if (closed_) return fallback;
    QPointer<ConversationService> svc = service_;
    if (!svc) return fallback;
    if (QThread::currentThread() == svc->thread()) return fn(*svc);

    struct Shared {
        std::mutex m;
        std::condition_variable cv;
        std::optional<T> result;
    };
    auto shared = std::make_shared<Shared>();
    QMetaObject::invokeMethod(
        svc.data(),
        [shared, fn, svc] {
            if (!svc) return;
            T r = fn(*svc);
            std::lock_guard lock(shared->m);
            shared->result = std::move(r);
            shared->cv.notify_all();
        },
        Qt::QueuedConnection);
    std::unique_lock lock(shared->m);
    if (!shared->cv.wait_for(lock, std::chrono::milliseconds(kCallTimeoutMs), [&] { return shared->result.has_value(); }))
        return fallback;
    return std::move(*shared->result);
}

void AppHostServices::setClipboardAccess(std::function<QString()> get, std::function<void(const QString&)> set) {
    std::lock_guard lock(clipboardMutex_);
    getClipboard_ = std::move(get);
    setClipboard_ = std::move(set);
}

QList<plugins::ChatMessage> AppHostServices::conversation() {
    return call<QList<plugins::ChatMessage>>(
        [](ConversationService& s) {
            QList<plugins::ChatMessage> out;
            for (const MessageView& m : s.messages(s.activeConversation())) out << toPlugin(m);
            return out;
        },
        {});
}

plugins::ChatMessage AppHostServices::selectedMessage() {
    return call<plugins::ChatMessage>(
        [](ConversationService& s) {
            for (const MessageView& m : s.messages(s.activeConversation()))
                if (m.id == s.selectedMessage()) return toPlugin(m);
            return plugins::ChatMessage{};
        },
        {});
}

bool AppHostServices::isCloudMode() {
    // When the answer cannot be had, say "cloud": the host then withholds personal context.
    return call<bool>(
        [](ConversationService& s) {
            return s.exists(s.activeConversation()) && s.mode(s.activeConversation()) == QLatin1String("cloud");
        },
        true);
}

quint64 AppHostServices::startCompletion(const plugins::CompletionRequest& request, plugins::CompletionCallbacks callbacks) {
    ChatRequest r;
    for (const plugins::ChatMessage& m : request.messages) r.messages.append({m.role, m.content});
    if (request.options.contains(QStringLiteral("temperature")))
        r.temperature = request.options.value(QStringLiteral("temperature")).toDouble();
    if (request.options.contains(QStringLiteral("maxTokens")))
        r.maxTokens = request.options.value(QStringLiteral("maxTokens")).toInt();
    // onDone must be called exactly once even when the call never reaches the service.
    auto doneOnce = std::make_shared<std::atomic<bool>>(false);
    auto onDone = [cb = callbacks.onDone, doneOnce](const QString& error) {
        if (!doneOnce->exchange(true) && cb) cb(error);
    };
    const quint64 id = call<quint64>(
        [r, callbacks, onDone](ConversationService& s) { return s.startCompletion(r, callbacks.onToken, onDone); }, 0);
    if (id == 0) onDone(QStringLiteral("the app did not accept the completion request"));
    return id;
}

void AppHostServices::cancelCompletion(quint64 requestId) {
    call<bool>(
        [requestId](ConversationService& s) {
            s.cancelCompletion(requestId);
            return true;
        },
        false);
}

QList<plugins::ContextHit> AppHostServices::contextSearch(const QString& query, int limit) {
    return call<QList<plugins::ContextHit>>([query, limit](ConversationService& s) { return s.contextSearch(query, limit); }, {});
}

void AppHostServices::insertMessage(const QString& pluginId, const plugins::ChatMessage& message) {
    call<bool>(
        [pluginId, message](ConversationService& s) {
            return s.insertPluginMessage(pluginId, message.role.isEmpty() ? QStringLiteral("assistant") : message.role,
                                         message.content) != 0;
        },
        false);
}

void AppHostServices::fillComposer(const QString& pluginId, const QString& text) {
    call<bool>(
        [pluginId, text](ConversationService& s) {
            emit s.composerFillRequested(pluginId, text);
            return true;
        },
        false);
}

void AppHostServices::notify(const QString& pluginId, const QString& text) {
    call<bool>(
        [pluginId, text](ConversationService& s) {
            emit s.pluginNotification(pluginId, text);
            return true;
        },
        false);
}

QString AppHostServices::clipboardText() {
    std::function<QString()> get;
    {
        std::lock_guard lock(clipboardMutex_);
        if (!getClipboard_) return clipboard_;
        get = getClipboard_;
    }
    return call<QString>([get](ConversationService&) { return get(); }, QString());
}

void AppHostServices::setClipboardText(const QString& text) {
    std::function<void(const QString&)> set;
    {
        std::lock_guard lock(clipboardMutex_);
        if (!setClipboard_) {
            clipboard_ = text;
            return;
        }
        set = setClipboard_;
    }
    call<bool>(
        [set, text](ConversationService&) {
            set(text);
            return true;
        },
        false);
}

}  // namespace bonsai::core
