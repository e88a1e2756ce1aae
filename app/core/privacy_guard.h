#pragma once
// The privacy guard: the only place where provider requests are assembled, so the rule lives in one spot.
//
//   * A request is built from the visible conversation alone (the messages of the active path, plus the
//     conversation's system prompt).
//   * Personal context (storage::ContextStore retrieval) is read only when the answering provider is the
//     LOCAL one; for "cloud" retrieve() reads nothing and buildRequest() ignores any context handed in.
//   * Retrieved text augments only the last user turn of THIS request; it is never written into a message,
//     so every later request, rebuilt from the messages, is free of it.
#include <QList>
#include <QString>
#include <vector>

#include "core/provider.h"

namespace bonsai::storage {
class ContextStore;
struct Message;
}  // namespace bonsai::storage

namespace bonsai::core {

// Personal context retrieved for one local turn.
struct RetrievedContext {
    QString text;          // the block given to the model (titles and passages); empty when nothing matched
    QList<qint64> itemIds; // the context items the passages came from
    bool isEmpty() const { return text.isEmpty(); }
};

class PrivacyGuard {
public:
    explicit PrivacyGuard(const storage::ContextStore* store = nullptr) : store_(store) {}
    void setStore(const storage::ContextStore* store) { store_ = store; }

    // Passages relevant to `query` for a turn answered by `providerKind`. Empty for anything but "local",
    // for an empty query, and when no store is set. Hits not marked local_only are skipped too (the store
    // marks every item local_only today; the check keeps the rule if that ever changes).
    RetrievedContext retrieve(const QString& providerKind, const QString& query, int limit) const;

    // The request for `providerKind` from the visible path (oldest first; empty assistant messages, e.g. a
    // failed reply, are left out). `context` is added to the last user message only when providerKind is
    // "local".
    ChatRequest buildRequest(const QString& providerKind, const QString& systemPrompt,
                             const std::vector<storage::Message>& visiblePath,
                             const RetrievedContext& context = {}) const;

    // How context is put in front of the user's text (exposed for tests and the "what did the model see" view).
    static QString augment(const QString& userText, const RetrievedContext& context);

private:
    const storage::ContextStore* store_;
};

}  // namespace bonsai::core
