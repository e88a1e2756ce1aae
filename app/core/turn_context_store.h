#pragma once
// Where the personal context given to the local model for one reply is kept: a side table of the profile
// database (core_turn_context, created here through storage's raw connection), keyed by the reply's
// message id and deleted with it. It is stored APART from the messages on purpose: prompts are always
// rebuilt from the messages, so text retrieved for one local turn can never reach a later request, local
// or cloud. The table is read only to show the user what a reply was given.
//
// Also holds the one conversation update storage's History lacks (the mode column).
#include <QList>
#include <QString>

namespace bonsai::storage {
class Database;
}

namespace bonsai::core {

class TurnContextStore {
public:
    // Creates the side table when absent. Throws storage::Error when the database refuses.
    explicit TurnContextStore(storage::Database& db);

    // Records the context text (and the context item ids it came from) given for reply `replyId`.
    void save(qint64 replyId, const QString& text, const QList<qint64>& itemIds);
    // The text recorded for `replyId`; empty when none.
    QString text(qint64 replyId) const;
    bool has(qint64 replyId) const { return !text(replyId).isEmpty(); }

    // Sets conversations.mode ("local" / "cloud") and touches updated_at. Throws storage::Error.
    void setConversationMode(qint64 conversationId, const QString& mode);
    // After a reply ends: the model that really answered (kept when `model` is empty) and the provider's
    // own completion-token count (StreamingReply only counts appended pieces).
    void recordReplyResult(qint64 replyId, const QString& model, qint64 completionTokens);

private:
    storage::Database& db_;
};

}  // namespace bonsai::core
