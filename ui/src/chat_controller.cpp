#include "chat_controller.h"

#include <QClipboard>
#include <QGuiApplication>

#include "core/conversation_service.h"
#include "host/plugin_host.h"

namespace bonsai::ui {

namespace {

ChatMessageRow rowOf(const core::MessageView& m) {
    ChatMessageRow r;
    r.id = m.id;
    r.role = m.role;
    r.content = m.content;
    r.provider = m.provider;
    r.model = m.model;
    r.tokensPerSecond = m.tokensPerSecond;
    r.completionTokens = m.completionTokens;
    r.status = m.status;
    r.branchIndex = m.branchIndex;
    r.branchCount = m.branchCount;
    return r;
}

}  // namespace

ChatController::ChatController(core::ConversationService* service, QObject* parent)
    : QObject(parent), service_(service) {
    using CS = core::ConversationService;
    connect(service_, &CS::replyStarted, this, &ChatController::onReplyStarted);
    connect(service_, &CS::replyToken, this, &ChatController::onReplyToken);
    connect(service_, &CS::replyFinished, this, &ChatController::onReplyFinished);
    connect(service_, &CS::replyFailed, this, &ChatController::onReplyFailed);
    connect(service_, &CS::busyChanged, this, &ChatController::busyChanged);
    connect(service_, &CS::errorOccurred, this, &ChatController::setError);
    connect(service_, &CS::composerFillRequested, this,
            [this](const QString&, const QString& text) { emit composerFill(text); });
    connect(service_, &CS::pluginNotification, this, [this](const QString& pluginId, const QString& text) {
        notice_ = QStringLiteral("%1: %2").arg(pluginId, text);
        emit noticeChanged();
    });
    connect(service_, &CS::messageAdded, this, [this](qint64 c, qint64) {
        if (c == conversationId_ && !streamingId_) reload();
    });
    connect(service_, &CS::conversationChanged, this, [this](qint64 c) {
        if (c == conversationId_ && !streamingId_) reload();
    });
    connect(service_, &CS::titleChanged, this, [this](qint64 c, const QString&) {
        if (c == conversationId_) emit titleChanged();
    });
    connect(service_, &CS::modeChanged, this, [this](qint64 c, const QString&) {
        if (c == conversationId_) emit modeChanged();
    });
}

QString ChatController::title() const {
    if (!conversationId_) return {};
    const auto c = service_->conversation(conversationId_);
    return c ? c->title : QString();
}

QString ChatController::mode() const {
    if (conversationId_) return service_->mode(conversationId_);
    return pendingMode_.isEmpty() ? QStringLiteral("local") : pendingMode_;
}

bool ChatController::busy() const { return service_->busy(); }

void ChatController::setUseContext(bool on) {
    if (useContext() == on) return;
    useContext_.insert(conversationId_, on);
    emit useContextChanged();
}

void ChatController::setLocalModel(const QString& name) {
    if (name == localModel_) return;
    localModel_ = name;
    emit modelsChanged();
}

void ChatController::setCloudModel(const QString& name) {
    if (name == cloudModel_) return;
    cloudModel_ = name;
    service_->setCloudModel(name);
    emit modelsChanged();
}

void ChatController::setContextSize(int n) {
    if (n <= 0 || n == contextSize_) return;
    contextSize_ = n;
    emit contextUsageChanged();
}

QStringList ChatController::slashCommands() const {
    QStringList out;
    if (!plugins_) return out;
    for (const auto& p : plugins_->plugins()) {
        if (!p.enabled || (pluginEnabled_ && !pluginEnabled_(p.manifest.id))) continue;
        for (const auto& c : p.manifest.commands) out << QStringLiteral("/%1 — %2").arg(c.name, c.description);
    }
    return out;
}

void ChatController::setPluginHost(plugins::PluginHost* host) {
    plugins_ = host;
    if (host) {
        connect(host, &plugins::PluginHost::pluginLoaded, this, &ChatController::slashCommandsChanged);
        connect(host, &plugins::PluginHost::pluginDisabled, this, &ChatController::slashCommandsChanged);
    }
    emit slashCommandsChanged();
}

void ChatController::newChat() {
    // An empty open conversation is reused instead of piling up untitled ones.
    if (conversationId_ && messages_.rowCount() == 0) return;
    conversationId_ = 0;
    streamingId_ = 0;
    messages_.setRows({});
    lastReplyTokens_ = -1;
    emit conversationChanged();
    emit titleChanged();
    emit modeChanged();
    emit useContextChanged();
    updateContextUsage();
}

void ChatController::openConversation(qint64 id) {
    if (id == conversationId_ || !service_->exists(id)) return;
    conversationId_ = id;
    streamingId_ = service_->busyConversation() == id ? -1 : 0;
    service_->setActiveConversation(id);
    lastReplyTokens_ = -1;
    reload();
    streamingId_ = 0;
    emit conversationChanged();
    emit titleChanged();
    emit modeChanged();
    emit useContextChanged();
}

void ChatController::ensureConversation() {
    if (conversationId_) return;
    const bool ctx = useContext_.value(0, false);
    conversationId_ = service_->createConversation(pendingMode_);
    useContext_.insert(conversationId_, ctx);
    service_->setActiveConversation(conversationId_);
    emit conversationChanged();
    emit modeChanged();
}

bool ChatController::send(const QString& raw) {
    const QString text = raw.trimmed();
    if (text.isEmpty()) return false;
    clearError();
    if (text.startsWith(u'/') && plugins_) {
        const QString name = text.mid(1).section(u' ', 0, 0);
        const QString owner = plugins_->commandOwner(name);
        if (!owner.isEmpty() && (!pluginEnabled_ || pluginEnabled_(owner))) {
            ensureConversation();
            QString err;
            if (!plugins_->runCommandLine(text, &err)) {
                setError(err);
                return false;
            }
            return true;
        }
    }
    if (service_->busy()) {
        setError(tr("Wait for the current answer to finish, or stop it first."));
        return false;
    }
    ensureConversation();
    return service_->send(conversationId_, text, useContext()) != 0;
}

void ChatController::stop() { service_->stop(); }

void ChatController::regenerate(qint64 messageId) {
    if (!messageId) {
        for (int i = int(messages_.rows().size()) - 1; i >= 0 && !messageId; --i)
            if (messages_.rows()[i].role == QStringLiteral("assistant")) messageId = messages_.rows()[i].id;
    }
    if (!messageId) return;
    clearError();
    service_->regenerate(messageId);
}

void ChatController::editAndResend(qint64 messageId, const QString& text) {
    if (text.trimmed().isEmpty()) return;
    clearError();
    service_->editAndResend(messageId, text.trimmed(), useContext());
}

void ChatController::setMode(const QString& mode) {
    if (mode != QStringLiteral("local") && mode != QStringLiteral("cloud")) return;
    if (!conversationId_) {
        // Not created yet: remember it for the conversation the first message creates.
        pendingMode_ = mode;
        emit modeChanged();
        return;
    }
    service_->setMode(conversationId_, mode);
    emit modeChanged();
}

void ChatController::switchBranch(qint64 messageId, int delta) {
    if (service_->switchBranch(messageId, delta)) reload();
}

void ChatController::copyToClipboard(const QString& text) {
    if (auto* cb = QGuiApplication::clipboard()) cb->setText(text);
}

void ChatController::clearError() { setError(QString()); }

void ChatController::setError(const QString& text) {
    if (text == errorText_) return;
    errorText_ = text;
    emit errorTextChanged();
}

void ChatController::reload() {
    QList<ChatMessageRow> rows;
    if (conversationId_)
        for (const core::MessageView& m : service_->messages(conversationId_)) rows << rowOf(m);
    messages_.setRows(std::move(rows));
    updateContextUsage();
}

void ChatController::updateContextUsage() {
    int used = 0;
    if (lastReplyTokens_ > 0) {
        used = lastReplyTokens_;
    } else {
        qint64 chars = 0;
        for (const ChatMessageRow& r : messages_.rows()) chars += r.content.size() + 8;  // + template overhead
        used = int((chars + 3) / 4);
    }
    if (used == contextUsed_) return;
    contextUsed_ = used;
    emit contextUsageChanged();
}

void ChatController::onReplyStarted(qint64 conversationId, qint64 messageId) {
    if (conversationId != conversationId_) return;
    reload();  // shows the user message (or the edit branch) that the reply answers
    streamingId_ = messageId;
    if (messages_.rowOfId(messageId) < 0) {
        ChatMessageRow r;
        r.id = messageId;
        r.role = QStringLiteral("assistant");
        r.provider = mode();
        r.model = cloud() ? cloudModel_ : localModel_;
        r.status = QStringLiteral("streaming");
        messages_.append(r);
    }
}

void ChatController::onReplyToken(qint64 conversationId, qint64 messageId, const QString& text) {
    if (conversationId != conversationId_ || messageId != streamingId_) return;
    messages_.appendToLast(text);
}

void ChatController::onReplyFinished(qint64 conversationId, qint64 messageId, const core::GenerationStats& stats) {
    if (conversationId != conversationId_) return;
    streamingId_ = 0;
    lastReplyTokens_ = stats.promptTokens > 0 ? stats.promptTokens + stats.completionTokens : -1;
    reload();
    emit replyDone(messageId);
}

void ChatController::onReplyFailed(qint64 conversationId, qint64 messageId, const QString& message) {
    if (conversationId != conversationId_) return;
    streamingId_ = 0;
    reload();
    const int row = messages_.rowOfId(messageId);
    if (row >= 0) {
        ChatMessageRow r = messages_.rows()[row];
        r.error = message;
        r.status = QStringLiteral("failed");
        if (row == messages_.rowCount() - 1) messages_.updateLast(r);
    }
    setError(message);
    emit replyDone(messageId);
}

}  // namespace bonsai::ui
