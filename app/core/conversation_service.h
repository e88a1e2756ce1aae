#pragma once
// ConversationService: the conversations of one profile database, answered by the local model or a cloud
// endpoint, with replies streamed as signals and saved as they grow. The desktop UI and `bonsai-cli chat`
// both drive it; it is a plain QObject (no singleton) living on the thread that created it, and every
// method must be called from that thread (the plugin bridge, host_services_impl.h, marshals onto it).
//
// Flow of one turn, send(conversationId, text, useContext):
//   1. the user message is appended under the conversation's active leaf (messageAdded);
//   2. the privacy guard (privacy_guard.h) builds the provider request from the visible conversation
//      (the active path); only for the LOCAL provider, and only with useContext, it adds passages
//      retrieved from the personal context store to this turn's prompt. That text is stored apart from
//      the user's message (turn_context_store.h) and never put into a later request;
//   3. an assistant message is started (status 'streaming'), replyStarted, then replyToken per piece,
//      the text being committed to SQLite as it grows (storage::StreamingReply);
//   4. replyFinished (status 'complete') or replyFailed (status 'interrupted', partial text kept).
//      stop() ends the running reply early: replyFinished follows with finishReason "cancelled".
// After the first exchange of an untitled conversation, the answering provider is asked for a short
// title (titleChanged); when it cannot give one, the first words of the user's message are the title.
//
// Each conversation has a mode, "local" or "cloud", switchable at any time (setMode); the whole visible
// history is carried over, and every assistant message records the provider ("local"/"cloud") and the
// model that wrote it. Edits and regenerations are branches of the message tree (storage/history.h).
//
// Ids are SQLite row ids (qint64, > 0); 0 means "none". Only one reply runs at a time (busy()).
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "api/types.h"
#include "core/provider.h"

namespace bonsai::storage {
class Database;
class History;
class ContextStore;
class StreamingReply;
struct Message;
}  // namespace bonsai::storage

namespace bonsai::core {

class PrivacyGuard;
class TurnContextStore;

// One message of the visible conversation, as a chat view shows it.
struct MessageView {
    qint64 id = 0;
    qint64 parentId = 0;          // 0 for the first message of the conversation
    QString role;                 // "system", "user", "assistant" or "tool"
    QString content;
    QString provider;             // "local", "cloud", "plugin:<id>"; "" for the user's own messages
    QString model;                // the model that wrote an assistant message
    QString status;               // "complete", "streaming" or "interrupted"
    int branchIndex = 0;          // 0-based position among the siblings (edits / regenerations) of this message
    int branchCount = 1;          // number of such siblings, itself included (> 1: show "< 2/3 >")
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    double tokensPerSecond = 0;
    qint64 createdAt = 0;         // ms since the epoch
    bool usedPersonalContext = false;  // a local reply that was given retrieved personal context
};

// One conversation as a list shows it.
struct ConversationSummary {
    qint64 id = 0;
    QString title;                // "" until the first exchange has finished
    QString mode;                 // "local" or "cloud"
    QString model;                // model the conversation was started with ("" = default)
    QString systemPrompt;
    bool pinned = false;
    bool archived = false;
    bool deleted = false;         // in the trash (restoreConversation() undoes it)
    qint64 createdAt = 0;
    qint64 updatedAt = 0;
    qint64 messageCount = 0;      // all branches
};

class ConversationService : public QObject {
    Q_OBJECT
public:
    // `db` must outlive the service. The personal context store is built on the same database (BM25
    // retrieval) unless setContextStore() gives another one.
    explicit ConversationService(storage::Database& db, QObject* parent = nullptr);
    ~ConversationService() override;

    // ---- providers (not owned; may be null: sending in that mode then fails with a clear message)
    void setLocalProvider(Provider* provider);
    void setCloudProvider(Provider* provider);
    Provider* localProvider() const { return local_; }
    Provider* cloudProvider() const { return cloud_; }
    // The model name sent to the cloud endpoint (e.g. "gpt-4o-mini"); recorded on cloud messages.
    void setCloudModel(const QString& model) { cloudModel_ = model; }
    QString cloudModel() const { return cloudModel_; }
    // Mode of conversations created without one ("local" unless changed).
    void setDefaultMode(const QString& mode);
    // Replaces the context store used for retrieval (e.g. one with an embedding function). Not owned.
    void setContextStore(storage::ContextStore* store);
    // Ask the model for titles after the first exchange (default on). Off: the first words are the title.
    void setAutoTitles(bool on) { autoTitles_ = on; }
    // Limits of a reply and of retrieval.
    void setMaxReplyTokens(int n) { maxReplyTokens_ = n; }
    void setRetrievalLimit(int n) { retrievalLimit_ = n; }

    // ---- conversations
    // Creates an empty conversation; mode "" = the default mode. Returns its id.
    qint64 createConversation(const QString& mode = QString(), const QString& systemPrompt = QString());
    // Live conversations (pinned first, newest first), or the trash with deleted = true.
    QList<ConversationSummary> conversations(bool includeArchived = true, bool deleted = false) const;
    // One conversation; nullopt when the id names none.
    std::optional<ConversationSummary> conversation(qint64 conversationId) const;
    // The visible branch, oldest first.
    QList<MessageView> messages(qint64 conversationId) const;
    // The personal-context text given to the local model for a reply (kept apart from the messages; shown
    // on request, never sent anywhere). Empty when the reply used none.
    QString retrievedContext(qint64 replyMessageId) const;
    // Whether a conversation id exists (live or in the trash).
    bool exists(qint64 conversationId) const;

    void renameConversation(qint64 conversationId, const QString& title);
    void setPinned(qint64 conversationId, bool pinned);
    void setArchived(qint64 conversationId, bool archived);
    void setSystemPrompt(qint64 conversationId, const QString& prompt);
    void deleteConversation(qint64 conversationId);   // soft delete (to the trash)
    void restoreConversation(qint64 conversationId);  // undo deleteConversation

    // "local" or "cloud". Switching keeps the history; the next reply comes from the new provider.
    QString mode(qint64 conversationId) const;
    void setMode(qint64 conversationId, const QString& mode);

    // Shows another branch: `messageId` and, below it, the newest message at each level.
    void selectBranch(qint64 messageId);
    // Moves to the previous (delta -1) or next (+1) sibling of `messageId`; returns the sibling's id (0: none).
    qint64 switchBranch(qint64 messageId, int delta);

    // ---- turns (each returns the id of the new user message / reply, 0 when refused: errorOccurred says why)
    // Sends `text` as the next user message and streams the reply. useContext: add personal context
    // (local mode only; ignored, never sent, in cloud mode).
    qint64 send(qint64 conversationId, const QString& text, bool useContext = false);
    // A new reply as a sibling of `messageId` (an assistant message), or a new reply to `messageId` (a user
    // message). Uses personal context again when the regenerated reply had some and the mode is local.
    // Returns the new reply's id.
    qint64 regenerate(qint64 messageId);
    // Adds `text` as a sibling of the user message `messageId` (an edit branch) and answers it.
    // Returns the new user message's id.
    qint64 editAndResend(qint64 messageId, const QString& text, bool useContext = false);
    // Stops the running reply (or title / plugin completion). replyFinished(..., "cancelled") follows.
    void stop();
    bool busy() const;
    qint64 busyConversation() const;  // the conversation whose reply is running, 0 when none

    // ---- for the plugin bridge and the UI's selection
    void setActiveConversation(qint64 conversationId);
    qint64 activeConversation() const { return activeConversation_; }
    void setSelectedMessage(qint64 messageId) { selectedMessage_ = messageId; }
    qint64 selectedMessage() const { return selectedMessage_; }
    // Adds a message from a plugin to the active conversation (provider "plugin:<id>"). Returns its id.
    qint64 insertPluginMessage(const QString& pluginId, const QString& role, const QString& content);
    // Runs a completion outside any conversation (plugins, titles) on the active conversation's provider.
    // The request is used as given: no personal context is added. onDone gets "" on success. Returns a
    // non-zero id, or 0 when refused (onDone is then already called with the reason).
    quint64 startCompletion(const ChatRequest& request, std::function<void(const QString&)> onToken,
                            std::function<void(const QString&)> onDone);
    void cancelCompletion(quint64 id);
    // Personal-context search for plugins: empty unless the active conversation (or, without one, the
    // default mode) is local.
    QList<plugins::ContextHit> contextSearch(const QString& query, int limit);

signals:
    void conversationsChanged();                       // created, renamed, flagged, deleted, restored
    void conversationChanged(qint64 conversationId);   // its messages or visible branch changed: reload messages()
    void titleChanged(qint64 conversationId, const QString& title);
    void modeChanged(qint64 conversationId, const QString& mode);
    void messageAdded(qint64 conversationId, qint64 messageId);
    void replyStarted(qint64 conversationId, qint64 messageId);
    void replyToken(qint64 conversationId, qint64 messageId, const QString& text);
    void replyFinished(qint64 conversationId, qint64 messageId, const bonsai::core::GenerationStats& stats);
    void replyFailed(qint64 conversationId, qint64 messageId, const QString& message);
    void busyChanged(bool busy);
    void errorOccurred(const QString& message);        // a refused action, in words for the user
    // Plugin requests for the UI.
    void composerFillRequested(const QString& pluginId, const QString& text);
    void pluginNotification(const QString& pluginId, const QString& text);

private:
    struct Job;
    Provider* providerFor(const QString& mode) const;
    QString modelFor(const QString& mode) const;
    qint64 startReply(qint64 conversationId, qint64 parentId, bool useContext, const QString& query);
    void startJob(std::unique_ptr<Job> job);
    void onProviderToken(const QString& text);
    void onProviderFinished(const GenerationStats& stats);
    void onProviderFailed(const QString& message);
    void finishJob();
    void maybeStartTitle(qint64 conversationId);
    void connectProvider(Provider* p);
    void refuse(const QString& message);
    // Runs one storage call; a storage::Error becomes refuse(message) and false.
    bool storageCall(const std::function<void()>& call);
    std::vector<storage::Message> pathTo(qint64 messageId) const;
    void applyTitle(qint64 conversationId, const QString& modelText, const QString& fallback);

    storage::Database& db_;
    std::unique_ptr<storage::History> history_;
    std::unique_ptr<storage::ContextStore> ownContext_;
    storage::ContextStore* context_ = nullptr;
    std::unique_ptr<TurnContextStore> turnContext_;
    std::unique_ptr<PrivacyGuard> guard_;
    QPointer<Provider> local_;
    QPointer<Provider> cloud_;
    QString cloudModel_;
    QString defaultMode_ = QStringLiteral("local");
    bool autoTitles_ = true;
    int maxReplyTokens_ = 1024;
    int retrievalLimit_ = 4;
    qint64 activeConversation_ = 0;
    qint64 selectedMessage_ = 0;
    std::unique_ptr<Job> job_;         // the running reply / title / plugin completion
    std::unique_ptr<Job> pending_;     // waits for a superseded title job to stop
    quint64 nextCompletionId_ = 0;
};

}  // namespace bonsai::core

Q_DECLARE_METATYPE(bonsai::core::GenerationStats)
