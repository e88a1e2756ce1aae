#include "host/plugin_context.h"

#include <QDebug>
#include <algorithm>

namespace bonsai::plugins {

namespace {
const QStringList kRoles{QStringLiteral("system"), QStringLiteral("user"), QStringLiteral("assistant")};
}

void PluginContext::Channel::post(std::function<void()> fn) {
    std::lock_guard lock(mutex);
    // Posting under the lock: close() cannot clear (and the owner then destroy) the target in between.
    // Events still queued for a destroyed target are dropped by Qt.
    if (target) QMetaObject::invokeMethod(target, std::move(fn), Qt::QueuedConnection);
}

PluginContext::PluginContext(PluginManifest manifest, HostServices* services, const QString& settingsPath,
                             qsizetype settingsLimit)
    : manifest_(std::move(manifest)), services_(services), settings_(settingsPath, settingsLimit) {}

PluginContext::~PluginContext() { close(); }

void PluginContext::setDispatch(QObject* target, Runner runner) {
    std::lock_guard lock(channel_->mutex);
    channel_->target = target;
    runner_ = std::move(runner);
}

void PluginContext::close() {
    {
        std::lock_guard lock(channel_->mutex);
        channel_->target = nullptr;
    }
    if (closed_) return;
    closed_ = true;
    auto running = std::move(running_);
    running_.clear();
    for (const auto& [id, r] : running) services_->cancelCompletion(r.hostId);
}

void PluginContext::require(const QString& permission, const QString& api) const {
    if (!manifest_.permissions.contains(permission))
        throw PluginError(QStringLiteral("%1 needs the permission \"%2\", which plugin.json does not declare")
                              .arg(api, permission));
}

void PluginContext::checkText(const QString& text, const QString& what) const {
    if (text.size() > kMaxPluginTextChars)
        throw PluginError(QStringLiteral("%1: text longer than %2 characters").arg(what).arg(kMaxPluginTextChars));
}

void PluginContext::registerCommand(const QString& name, CommandHandler handler) {
    const bool declared = std::any_of(manifest_.commands.begin(), manifest_.commands.end(),
                                      [&](const CommandContribution& c) { return c.name == name; });
    if (!declared)
        throw PluginError(QStringLiteral("registerCommand: command '%1' is not declared in plugin.json "
                                         "(contributes.commands)").arg(name));
    if (!handler) throw PluginError(QStringLiteral("registerCommand: '%1' needs a function").arg(name));
    commands_.insert(name, std::move(handler));
}

void PluginContext::registerMessageAction(const QString& id, MessageActionHandler handler) {
    const bool declared = std::any_of(manifest_.messageActions.begin(), manifest_.messageActions.end(),
                                      [&](const MessageActionContribution& a) { return a.id == id; });
    if (!declared)
        throw PluginError(QStringLiteral("registerMessageAction: action '%1' is not declared in plugin.json "
                                         "(contributes.messageActions)").arg(id));
    if (!handler) throw PluginError(QStringLiteral("registerMessageAction: '%1' needs a function").arg(id));
    actions_.insert(id, std::move(handler));
}

QList<ChatMessage> PluginContext::conversation() {
    require(QStringLiteral("conversation.read"), QStringLiteral("conversation()"));
    return services_->conversation();
}

ChatMessage PluginContext::selectedMessage() {
    require(QStringLiteral("conversation.read"), QStringLiteral("selectedMessage()"));
    return services_->selectedMessage();
}

quint64 PluginContext::complete(const QList<ChatMessage>& messages, const QVariantMap& options,
                                std::function<void(const QString&)> onToken,
                                std::function<void(const QString&, const QString&)> onDone) {
    require(QStringLiteral("model"), QStringLiteral("complete()"));
    if (closed_) throw PluginError(QStringLiteral("complete(): the plugin is disabled"));
    if (messages.isEmpty()) throw PluginError(QStringLiteral("complete(): the prompt is empty"));
    if (running_.size() >= 8) throw PluginError(QStringLiteral("complete(): more than 8 completions at once"));
    qsizetype total = 0;
    for (const ChatMessage& m : messages) {
        if (!kRoles.contains(m.role))
            throw PluginError(QStringLiteral("complete(): role '%1' is not system, user or assistant").arg(m.role));
        total += m.content.size();
    }
    if (total > kMaxPluginTextChars)
        throw PluginError(QStringLiteral("complete(): prompt longer than %1 characters").arg(kMaxPluginTextChars));

    const quint64 id = nextId_++;
    running_[id] = Running{std::move(onToken), std::move(onDone), QString(), 0};

    CompletionRequest request{manifest_.id, messages, options};
    CompletionCallbacks callbacks;
    std::shared_ptr<Channel> channel = channel_;
    callbacks.onToken = [this, channel, id](const QString& token) {
        channel->post([this, id, token] {
            auto it = running_.find(id);
            if (it == running_.end()) return;
            it->second.text += token;
            auto fn = it->second.onToken;
            if (fn && runner_) runner_([&] { fn(token); });
        });
    };
    callbacks.onDone = [this, channel, id](const QString& error) {
        channel->post([this, id, error] {
            auto it = running_.find(id);
            if (it == running_.end()) return;
            Running r = std::move(it->second);
            running_.erase(it);
            if (r.onDone && runner_) runner_([&] { r.onDone(r.text, error); });
            if (completionFinished_) completionFinished_(static_cast<int>(running_.size()));
        });
    };
    const quint64 hostId = services_->startCompletion(request, std::move(callbacks));
    auto it = running_.find(id);
    if (it != running_.end()) it->second.hostId = hostId;
    return id;
}

void PluginContext::cancel(quint64 requestId) {
    auto it = running_.find(requestId);
    if (it != running_.end() && it->second.hostId) services_->cancelCompletion(it->second.hostId);
}

void PluginContext::insertMessage(const QString& role, const QString& content) {
    if (!kRoles.contains(role))
        throw PluginError(QStringLiteral("insertMessage(): role '%1' is not system, user or assistant").arg(role));
    checkText(content, QStringLiteral("insertMessage()"));
    services_->insertMessage(manifest_.id, ChatMessage{QString(), role, content});
}

void PluginContext::fillComposer(const QString& text) {
    checkText(text, QStringLiteral("fillComposer()"));
    services_->fillComposer(manifest_.id, text);
}

void PluginContext::notify(const QString& text) {
    // A notification is a toast: keep it short rather than refuse.
    services_->notify(manifest_.id, text.left(2000));
}

void PluginContext::log(const QString& text) {
    const QString line = text.left(4000);
    if (logSink_) logSink_(line);
    else qInfo().noquote() << QStringLiteral("[plugin %1]").arg(manifest_.id) << line;
}

QJsonValue PluginContext::setting(const QString& key) const { return settings_.value(key); }

void PluginContext::setSetting(const QString& key, const QJsonValue& value) { settings_.setValue(key, value); }

QString PluginContext::clipboardText() {
    require(QStringLiteral("clipboard"), QStringLiteral("clipboard.read()"));
    return services_->clipboardText();
}

void PluginContext::setClipboardText(const QString& text) {
    require(QStringLiteral("clipboard"), QStringLiteral("clipboard.write()"));
    checkText(text, QStringLiteral("clipboard.write()"));
    services_->setClipboardText(text);
}

QList<ContextHit> PluginContext::contextSearch(const QString& query, int limit) {
    require(QStringLiteral("context.read"), QStringLiteral("context.search()"));
    // The privacy rule: personal context never reaches a conversation answered by a cloud provider.
    if (services_->isCloudMode())
        throw PluginError(QStringLiteral("context.search() needs the permission \"context.read\", which is never "
                                         "granted while the conversation is in cloud mode"));
    checkText(query, QStringLiteral("context.search()"));
    return services_->contextSearch(query, qBound(1, limit, 50));
}

}  // namespace bonsai::plugins
