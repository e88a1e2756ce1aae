#include "core/conversation_service.h"

#include <QRegularExpression>

#include "bonsai/storage/context_store.h"
#include "bonsai/storage/error.h"
#include "bonsai/storage/history.h"
#include "core/privacy_guard.h"
#include "core/title.h"
#include "core/turn_context_store.h"

namespace bonsai::core {

namespace st = bonsai::storage;

namespace {

QString qs(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }
QString qs(const std::string& s) { return QString::fromStdString(s); }
QString qs(const char* s) { return QString::fromUtf8(s); }

ConversationSummary summaryOf(const st::Conversation& c) {
    ConversationSummary s;
    s.id = c.id;
    s.title = qs(c.title);
    s.mode = qs(st::to_string(c.mode));
    s.model = qs(c.model);
    s.systemPrompt = qs(c.system_prompt);
    s.pinned = c.pinned;
    s.archived = c.archived;
    s.deleted = c.deleted_at.has_value();
    s.createdAt = c.created_at;
    s.updatedAt = c.updated_at;
    s.messageCount = c.message_count;
    return s;
}

bool validMode(const QString& m) { return m == QLatin1String("local") || m == QLatin1String("cloud"); }

}  // namespace

// What the provider is working on. Exactly one runs at a time; its provider's signals are routed here.
struct ConversationService::Job {
    enum class Kind { Reply, Title, External };
    Kind kind = Kind::Reply;
    Provider* provider = nullptr;
    ChatRequest request;
    qint64 conversationId = 0;
    // Reply
    std::unique_ptr<st::StreamingReply> reply;
    qint64 replyId = 0;
    QString model;
    bool firstExchange = false;
    // Title
    QString text;
    QString fallbackTitle;
    bool superseded = false;  // a reply is waiting: the title is abandoned
    // External (plugins)
    quint64 completionId = 0;
    std::function<void(const QString&)> onToken;
    std::function<void(const QString&)> onDone;
};

ConversationService::ConversationService(st::Database& db, QObject* parent)
    : QObject(parent),
      db_(db),
      history_(std::make_unique<st::History>(db)),
      ownContext_(std::make_unique<st::ContextStore>(db)),
      context_(ownContext_.get()),
      turnContext_(std::make_unique<TurnContextStore>(db)),
      guard_(std::make_unique<PrivacyGuard>(context_)) {
    qRegisterMetaType<bonsai::core::GenerationStats>();
}

ConversationService::~ConversationService() {
    // A title still being asked for: keep the fallback; a reply still streaming: StreamingReply's
    // destructor saves it as 'interrupted'.
    if (job_) {
        if (job_->kind == Job::Kind::Title) applyTitle(job_->conversationId, QString(), job_->fallbackTitle);
        if (job_->kind == Job::Kind::External && job_->onDone) job_->onDone(tr("cancelled"));
        Provider* p = job_->provider;
        job_.reset();
        if (p) {
            p->disconnect(this);
            p->stop();
        }
    }
    if (pending_ && pending_->kind == Job::Kind::External && pending_->onDone) pending_->onDone(tr("cancelled"));
}

// ---------------------------------------------------------------- providers and settings

void ConversationService::connectProvider(Provider* p) {
    if (!p) return;
    connect(p, &Provider::token, this, &ConversationService::onProviderToken, Qt::UniqueConnection);
    connect(p, &Provider::finished, this, &ConversationService::onProviderFinished, Qt::UniqueConnection);
    connect(p, &Provider::failed, this, &ConversationService::onProviderFailed, Qt::UniqueConnection);
}

void ConversationService::setLocalProvider(Provider* provider) {
    if (local_ && local_ != cloud_) local_->disconnect(this);
    local_ = provider;
    connectProvider(provider);
}

void ConversationService::setCloudProvider(Provider* provider) {
    if (cloud_ && cloud_ != local_) cloud_->disconnect(this);
    cloud_ = provider;
    connectProvider(provider);
}

void ConversationService::setDefaultMode(const QString& mode) {
    if (validMode(mode)) defaultMode_ = mode;
}

void ConversationService::setContextStore(st::ContextStore* store) {
    context_ = store ? store : ownContext_.get();
    guard_->setStore(context_);
}

Provider* ConversationService::providerFor(const QString& mode) const {
    return mode == QLatin1String("cloud") ? cloud_.data() : local_.data();
}

QString ConversationService::modelFor(const QString& mode) const {
    if (mode == QLatin1String("cloud")) return cloudModel_;
    return local_ ? local_->currentModel() : QString();
}

void ConversationService::refuse(const QString& message) { emit errorOccurred(message); }

// ---------------------------------------------------------------- conversations

qint64 ConversationService::createConversation(const QString& mode, const QString& systemPrompt) {
    const QString m = validMode(mode) ? mode : defaultMode_;
    st::NewConversation c;
    c.mode = m == QLatin1String("cloud") ? st::Mode::cloud : st::Mode::local;
    c.model = modelFor(m).toStdString();
    c.system_prompt = systemPrompt.toStdString();
    const qint64 id = history_->create_conversation(c);
    emit conversationsChanged();
    return id;
}

QList<ConversationSummary> ConversationService::conversations(bool includeArchived, bool deleted) const {
    st::ListFilter f;
    f.include_archived = includeArchived;
    f.deleted = deleted;
    QList<ConversationSummary> out;
    for (const st::Conversation& c : history_->list_conversations(f)) out << summaryOf(c);
    return out;
}

std::optional<ConversationSummary> ConversationService::conversation(qint64 conversationId) const {
    try {
        return summaryOf(history_->conversation(conversationId));
    } catch (const st::Error&) {
        return std::nullopt;
    }
}

bool ConversationService::exists(qint64 conversationId) const { return conversation(conversationId).has_value(); }

QList<MessageView> ConversationService::messages(qint64 conversationId) const {
    QList<MessageView> out;
    std::vector<st::Message> path;
    try {
        path = history_->active_path(conversationId);
    } catch (const st::Error&) {
        return out;
    }
    for (const st::Message& m : path) {
        MessageView v;
        v.id = m.id;
        v.parentId = m.parent_id.value_or(0);
        v.role = qs(st::to_string(m.role));
        v.content = qs(m.content);
        v.provider = qs(m.provider);
        v.model = qs(m.model);
        v.status = qs(st::to_string(m.status));
        v.promptTokens = m.prompt_tokens;
        v.completionTokens = m.completion_tokens;
        v.tokensPerSecond = m.timings.tokens_per_second;
        v.createdAt = m.created_at;
        const std::vector<st::Message> siblings = history_->children(conversationId, m.parent_id);
        v.branchCount = std::max<int>(1, static_cast<int>(siblings.size()));
        for (size_t i = 0; i < siblings.size(); ++i)
            if (siblings[i].id == m.id) v.branchIndex = static_cast<int>(i);
        if (m.role == st::Role::assistant) v.usedPersonalContext = turnContext_->has(m.id);
        out << v;
    }
    return out;
}

QString ConversationService::retrievedContext(qint64 replyMessageId) const { return turnContext_->text(replyMessageId); }

bool ConversationService::storageCall(const std::function<void()>& call) {
    try {
        call();
        return true;
    } catch (const st::Error& e) {
        refuse(qs(e.what()));
        return false;
    }
}

void ConversationService::renameConversation(qint64 conversationId, const QString& title) {
    if (!storageCall([&] { history_->rename(conversationId, title.toStdString()); })) return;
    emit titleChanged(conversationId, title);
    emit conversationsChanged();
}

void ConversationService::setPinned(qint64 conversationId, bool pinned) {
    if (!storageCall([&] { history_->set_pinned(conversationId, pinned); })) return;
    emit conversationsChanged();
}

void ConversationService::setArchived(qint64 conversationId, bool archived) {
    if (!storageCall([&] { history_->set_archived(conversationId, archived); })) return;
    emit conversationsChanged();
}

void ConversationService::setSystemPrompt(qint64 conversationId, const QString& prompt) {
    storageCall([&] { history_->set_system_prompt(conversationId, prompt.toStdString()); });
}

void ConversationService::deleteConversation(qint64 conversationId) {
    if (job_ && job_->conversationId == conversationId) stop();
    if (!storageCall([&] { history_->soft_delete(conversationId); })) return;
    if (activeConversation_ == conversationId) activeConversation_ = 0;
    emit conversationsChanged();
}

void ConversationService::restoreConversation(qint64 conversationId) {
    if (!storageCall([&] { history_->restore(conversationId); })) return;
    emit conversationsChanged();
}

QString ConversationService::mode(qint64 conversationId) const {
    const auto c = conversation(conversationId);
    return c ? c->mode : defaultMode_;
}

void ConversationService::setMode(qint64 conversationId, const QString& mode) {
    if (!validMode(mode)) {
        refuse(tr("The mode is 'local' or 'cloud', not '%1'.").arg(mode));
        return;
    }
    try {
        turnContext_->setConversationMode(conversationId, mode);
    } catch (const st::Error& e) {
        refuse(qs(e.what()));
        return;
    }
    emit modeChanged(conversationId, mode);
    emit conversationsChanged();
}

void ConversationService::selectBranch(qint64 messageId) {
    try {
        const st::Message m = history_->message(messageId);
        history_->select_branch(messageId);
        emit conversationChanged(m.conversation_id);
    } catch (const st::Error& e) {
        refuse(qs(e.what()));
    }
}

qint64 ConversationService::switchBranch(qint64 messageId, int delta) {
    try {
        const st::Message m = history_->message(messageId);
        const std::vector<st::Message> siblings = history_->children(m.conversation_id, m.parent_id);
        for (size_t i = 0; i < siblings.size(); ++i) {
            if (siblings[i].id != messageId) continue;
            const qint64 j = static_cast<qint64>(i) + delta;
            if (j < 0 || j >= static_cast<qint64>(siblings.size())) return 0;
            history_->select_branch(siblings[static_cast<size_t>(j)].id);
            emit conversationChanged(m.conversation_id);
            return siblings[static_cast<size_t>(j)].id;
        }
    } catch (const st::Error& e) {
        refuse(qs(e.what()));
    }
    return 0;
}

std::vector<st::Message> ConversationService::pathTo(qint64 messageId) const {
    std::vector<st::Message> path;
    std::optional<qint64> id = messageId;
    // Bounded walk: a parent chain never has more links than the conversation has messages.
    for (int guard = 0; id && guard < 1000000; ++guard) {
        path.push_back(history_->message(*id));
        id = path.back().parent_id;
    }
    std::reverse(path.begin(), path.end());
    return path;
}

// ---------------------------------------------------------------- turns

bool ConversationService::busy() const { return pending_ || (job_ && job_->kind != Job::Kind::Title); }

qint64 ConversationService::busyConversation() const {
    return job_ && job_->kind == Job::Kind::Reply ? job_->conversationId : 0;
}

qint64 ConversationService::send(qint64 conversationId, const QString& text, bool useContext) {
    if (busy()) {
        refuse(tr("A reply is already being generated; stop it or wait for it to finish."));
        return 0;
    }
    if (text.trimmed().isEmpty()) {
        refuse(tr("The message is empty."));
        return 0;
    }
    const auto conv = conversation(conversationId);
    if (!conv || conv->deleted) {
        refuse(tr("There is no conversation %1.").arg(conversationId));
        return 0;
    }
    if (!providerFor(conv->mode)) {
        refuse(conv->mode == QLatin1String("cloud") ? tr("No cloud endpoint is configured. Add one in Settings.")
                                                    : tr("No local model is available. Choose a model first."));
        return 0;
    }
    st::NewMessage m;
    m.role = st::Role::user;
    m.content = text.toStdString();
    const qint64 userId = history_->append_message(conversationId, m);
    emit messageAdded(conversationId, userId);
    emit conversationChanged(conversationId);
    startReply(conversationId, userId, useContext, text);
    return userId;
}

qint64 ConversationService::regenerate(qint64 messageId) {
    if (busy()) {
        refuse(tr("A reply is already being generated; stop it or wait for it to finish."));
        return 0;
    }
    st::Message m;
    try {
        m = history_->message(messageId);
    } catch (const st::Error& e) {
        refuse(qs(e.what()));
        return 0;
    }
    qint64 parent = 0;
    bool useContext = false;
    if (m.role == st::Role::assistant && m.parent_id) {
        parent = *m.parent_id;
        useContext = turnContext_->has(m.id);
    } else if (m.role == st::Role::user) {
        parent = m.id;
    } else {
        refuse(tr("Only a reply or a user message can be regenerated."));
        return 0;
    }
    const st::Message userMsg = history_->message(parent);
    if (!providerFor(mode(m.conversation_id))) {
        refuse(tr("No provider is available for this conversation's mode."));
        return 0;
    }
    return startReply(m.conversation_id, parent, useContext, qs(userMsg.content));
}

qint64 ConversationService::editAndResend(qint64 messageId, const QString& text, bool useContext) {
    if (busy()) {
        refuse(tr("A reply is already being generated; stop it or wait for it to finish."));
        return 0;
    }
    if (text.trimmed().isEmpty()) {
        refuse(tr("The message is empty."));
        return 0;
    }
    st::Message m;
    try {
        m = history_->message(messageId);
    } catch (const st::Error& e) {
        refuse(qs(e.what()));
        return 0;
    }
    if (m.role != st::Role::user) {
        refuse(tr("Only your own messages can be edited."));
        return 0;
    }
    if (!providerFor(mode(m.conversation_id))) {
        refuse(tr("No provider is available for this conversation's mode."));
        return 0;
    }
    st::NewMessage nm;
    nm.role = st::Role::user;
    nm.content = text.toStdString();
    const qint64 id = history_->add_message(m.conversation_id, m.parent_id, nm);
    emit messageAdded(m.conversation_id, id);
    emit conversationChanged(m.conversation_id);
    startReply(m.conversation_id, id, useContext, text);
    return id;
}

qint64 ConversationService::startReply(qint64 conversationId, qint64 parentId, bool useContext, const QString& query) {
    const QString m = mode(conversationId);
    Provider* provider = providerFor(m);
    const QString model = modelFor(m);
    const std::vector<st::Message> path = pathTo(parentId);
    const auto conv = conversation(conversationId);

    // The privacy guard decides what the provider sees: retrieval happens for the local provider only.
    RetrievedContext ctx;
    if (useContext) {
        try {
            ctx = guard_->retrieve(provider->kind(), query, retrievalLimit_);
        } catch (const st::Error& e) {
            refuse(tr("Personal context search failed (%1); answering without it.").arg(qs(e.what())));
        }
    }
    ChatRequest request = guard_->buildRequest(provider->kind(), conv ? conv->systemPrompt : QString(), path, ctx);
    request.model = m == QLatin1String("cloud") ? cloudModel_ : model;
    request.maxTokens = maxReplyTokens_;

    auto job = std::make_unique<Job>();
    job->kind = Job::Kind::Reply;
    job->provider = provider;
    job->request = request;
    job->conversationId = conversationId;
    job->model = model;
    int userTurns = 0;
    for (const st::Message& msg : path) userTurns += msg.role == st::Role::user ? 1 : 0;
    job->firstExchange = userTurns == 1 && conv && conv->title.isEmpty();
    job->reply = std::make_unique<st::StreamingReply>(
        history_->begin_reply(conversationId, parentId, m.toStdString(), model.toStdString()));
    job->replyId = job->reply->id();
    if (!ctx.isEmpty()) turnContext_->save(job->replyId, ctx.text, ctx.itemIds);
    const qint64 replyId = job->replyId;
    emit replyStarted(conversationId, replyId);
    emit conversationChanged(conversationId);
    startJob(std::move(job));
    return replyId;
}

void ConversationService::startJob(std::unique_ptr<Job> job) {
    if (job_) {
        // Only a title can be running here (busy() refused the rest): abandon it, start when it has stopped.
        job_->superseded = true;
        pending_ = std::move(job);
        emit busyChanged(true);
        Provider* p = job_->provider;
        p->stop();  // finished/failed follows (maybe right now), then the pending job starts
        return;
    }
    const bool announce = job->kind != Job::Kind::Title && !busy();  // a pending job announced itself already
    job_ = std::move(job);
    if (announce) emit busyChanged(true);
    Provider* p = job_->provider;
    p->start(job_->request);  // may fail at once: onProviderFailed then ends the job
}

void ConversationService::stop() {
    if (pending_) {
        std::unique_ptr<Job> p = std::move(pending_);
        if (p->reply) {
            p->reply->finish();
            GenerationStats s;
            s.finishReason = QStringLiteral("cancelled");
            s.model = p->model;
            emit busyChanged(false);
            emit replyFinished(p->conversationId, p->replyId, s);
        }
        if (p->onDone) p->onDone(tr("cancelled"));
    }
    if (job_ && job_->provider) job_->provider->stop();
}

void ConversationService::onProviderToken(const QString& text) {
    if (!job_ || sender() != job_->provider) return;
    switch (job_->kind) {
    case Job::Kind::Reply:
        try {
            job_->reply->append(text.toStdString(), 1);
        } catch (const st::Error& e) {
            refuse(tr("Saving the reply failed: %1").arg(qs(e.what())));
        }
        emit replyToken(job_->conversationId, job_->replyId, text);
        break;
    case Job::Kind::Title:
        if (job_->text.size() < 400) job_->text += text;
        break;
    case Job::Kind::External:
        if (job_->onToken) job_->onToken(text);
        break;
    }
}

void ConversationService::onProviderFinished(const GenerationStats& stats) {
    if (!job_ || sender() != job_->provider) return;
    std::unique_ptr<Job> job = std::move(job_);
    switch (job->kind) {
    case Job::Kind::Reply: {
        st::Timings t;
        t.prompt_ms = stats.promptMs;
        t.generation_ms = stats.generationMs;
        t.tokens_per_second = stats.tokensPerSecond;
        try {
            job->reply->finish(stats.promptTokens > 0 ? stats.promptTokens : 0, t);
            turnContext_->recordReplyResult(job->replyId, stats.model, stats.completionTokens);
        } catch (const st::Error& e) {
            refuse(tr("Saving the reply failed: %1").arg(qs(e.what())));
        }
        GenerationStats s = stats;
        if (s.model.isEmpty()) s.model = job->model;
        emit busyChanged(false);
        emit replyFinished(job->conversationId, job->replyId, s);
        emit conversationChanged(job->conversationId);
        if (job->firstExchange) {
            job_.reset();
            finishJob();
            maybeStartTitle(job->conversationId);
            return;
        }
        break;
    }
    case Job::Kind::Title:
        applyTitle(job->conversationId, job->superseded ? QString() : job->text, job->fallbackTitle);
        break;
    case Job::Kind::External:
        emit busyChanged(false);
        if (job->onDone) job->onDone(stats.finishReason == QLatin1String("cancelled") ? tr("cancelled") : QString());
        break;
    }
    finishJob();
}

void ConversationService::onProviderFailed(const QString& message) {
    if (!job_ || sender() != job_->provider) return;
    std::unique_ptr<Job> job = std::move(job_);
    switch (job->kind) {
    case Job::Kind::Reply:
        try {
            job->reply->interrupt();
        } catch (const st::Error&) {
            // the reply row keeps whatever was committed last
        }
        emit busyChanged(false);
        emit replyFailed(job->conversationId, job->replyId, message);
        emit conversationChanged(job->conversationId);
        if (job->firstExchange) {
            const std::vector<st::Message> path = pathTo(job->replyId);
            for (const st::Message& m : path)
                if (m.role == st::Role::user) {
                    applyTitle(job->conversationId, QString(), fallbackTitle(qs(m.content)));
                    break;
                }
        }
        break;
    case Job::Kind::Title:
        applyTitle(job->conversationId, QString(), job->fallbackTitle);
        break;
    case Job::Kind::External:
        emit busyChanged(false);
        if (job->onDone) job->onDone(message.isEmpty() ? tr("the completion failed") : message);
        break;
    }
    finishJob();
}

void ConversationService::finishJob() {
    if (job_ || !pending_) return;
    startJob(std::move(pending_));
}

void ConversationService::applyTitle(qint64 conversationId, const QString& modelText, const QString& fallback) {
    const auto conv = conversation(conversationId);
    if (!conv || !conv->title.isEmpty()) return;  // renamed meanwhile: the user's title wins
    QString title = cleanTitle(modelText);
    if (title.isEmpty()) title = fallback;
    if (title.isEmpty()) return;
    try {
        history_->rename(conversationId, title.toStdString());
    } catch (const st::Error&) {
        return;
    }
    emit titleChanged(conversationId, title);
    emit conversationsChanged();
}

void ConversationService::maybeStartTitle(qint64 conversationId) {
    const auto conv = conversation(conversationId);
    if (!conv || !conv->title.isEmpty()) return;
    const std::vector<st::Message> path = history_->active_path(conversationId);
    QString firstUser;
    for (const st::Message& m : path)
        if (m.role == st::Role::user) {
            firstUser = qs(m.content);
            break;
        }
    const QString fallback = fallbackTitle(firstUser);
    Provider* provider = providerFor(conv->mode);
    if (!autoTitles_ || !provider || job_ || pending_) {
        applyTitle(conversationId, QString(), fallback);
        return;
    }
    // The visible conversation only (never personal context), plus one instruction.
    ChatRequest r = guard_->buildRequest(QStringLiteral("cloud"), QString(), path);
    r.messages.append({QStringLiteral("user"), titleInstruction()});
    r.model = conv->mode == QLatin1String("cloud") ? cloudModel_ : modelFor(conv->mode);
    r.maxTokens = 24;
    r.temperature = 0.2;
    auto job = std::make_unique<Job>();
    job->kind = Job::Kind::Title;
    job->provider = provider;
    job->request = r;
    job->conversationId = conversationId;
    job->fallbackTitle = fallback;
    startJob(std::move(job));
}

// ---------------------------------------------------------------- plugins

void ConversationService::setActiveConversation(qint64 conversationId) {
    activeConversation_ = conversationId;
    selectedMessage_ = 0;
}

qint64 ConversationService::insertPluginMessage(const QString& pluginId, const QString& role, const QString& content) {
    if (!exists(activeConversation_)) {
        refuse(tr("The plugin %1 wanted to add a message, but no conversation is open.").arg(pluginId));
        return 0;
    }
    st::NewMessage m;
    m.role = st::parse_role(role.toStdString()).value_or(st::Role::assistant);
    m.content = content.toStdString();
    m.provider = (QStringLiteral("plugin:") + pluginId).toStdString();
    qint64 id = 0;
    try {
        id = history_->append_message(activeConversation_, m);
    } catch (const st::Error& e) {
        refuse(qs(e.what()));
        return 0;
    }
    emit messageAdded(activeConversation_, id);
    emit conversationChanged(activeConversation_);
    return id;
}

quint64 ConversationService::startCompletion(const ChatRequest& request, std::function<void(const QString&)> onToken,
                                             std::function<void(const QString&)> onDone) {
    const QString m = exists(activeConversation_) ? mode(activeConversation_) : defaultMode_;
    Provider* provider = providerFor(m);
    if (!provider || busy()) {
        if (onDone)
            onDone(!provider ? tr("no model is available in %1 mode").arg(m)
                             : tr("the model is busy answering; try again when it has finished"));
        return 0;
    }
    auto job = std::make_unique<Job>();
    job->kind = Job::Kind::External;
    job->provider = provider;
    job->request = request;
    if (job->request.model.isEmpty()) job->request.model = m == QLatin1String("cloud") ? cloudModel_ : modelFor(m);
    job->conversationId = activeConversation_;
    job->completionId = ++nextCompletionId_;
    job->onToken = std::move(onToken);
    job->onDone = std::move(onDone);
    const quint64 id = job->completionId;
    startJob(std::move(job));
    return id;
}

void ConversationService::cancelCompletion(quint64 id) {
    if (pending_ && pending_->kind == Job::Kind::External && pending_->completionId == id) {
        std::unique_ptr<Job> p = std::move(pending_);
        if (p->onDone) p->onDone(tr("cancelled"));
        return;
    }
    if (job_ && job_->kind == Job::Kind::External && job_->completionId == id && job_->provider) job_->provider->stop();
}

QList<plugins::ContextHit> ConversationService::contextSearch(const QString& query, int limit) {
    QList<plugins::ContextHit> out;
    const QString m = exists(activeConversation_) ? mode(activeConversation_) : defaultMode_;
    if (m != QLatin1String("local") || !context_ || query.trimmed().isEmpty() || limit <= 0) return out;
    st::ContextSearchOptions o;
    o.limit = std::min(limit, 50);
    try {
        for (const st::ContextHit& h : context_->search(query.toStdString(), o)) {
            if (!h.local_only) continue;
            out.append({qs(h.title), qs(h.chunk_text), h.score});
        }
    } catch (const st::Error&) {
        return {};
    }
    return out;
}

}  // namespace bonsai::core
