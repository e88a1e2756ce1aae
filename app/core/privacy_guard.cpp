#include "core/privacy_guard.h"

#include "bonsai/storage/context_store.h"
#include "bonsai/storage/types.h"

namespace bonsai::core {

namespace {
constexpr int kMaxContextChars = 6000;  // keeps a small local context window for the conversation itself
}

RetrievedContext PrivacyGuard::retrieve(const QString& providerKind, const QString& query, int limit) const {
    RetrievedContext out;
    if (providerKind != QLatin1String("local") || !store_ || query.trimmed().isEmpty() || limit <= 0) return out;
    storage::ContextSearchOptions o;
    o.limit = limit;
    const std::vector<storage::ContextHit> hits = store_->search(query.toStdString(), o);
    QStringList blocks;
    int chars = 0;
    for (const storage::ContextHit& h : hits) {
        if (!h.local_only) continue;
        const QString block = QStringLiteral("[%1] %2\n%3")
                                  .arg(blocks.size() + 1)
                                  .arg(QString::fromStdString(h.title), QString::fromStdString(h.chunk_text).trimmed());
        if (chars + block.size() > kMaxContextChars && !blocks.isEmpty()) break;
        chars += static_cast<int>(block.size());
        blocks << block;
        if (!out.itemIds.contains(h.item_id)) out.itemIds << h.item_id;
    }
    if (!blocks.isEmpty()) out.text = blocks.join(QStringLiteral("\n\n"));
    return out;
}

QString PrivacyGuard::augment(const QString& userText, const RetrievedContext& context) {
    if (context.isEmpty()) return userText;
    return QStringLiteral(
               "Notes from my personal context that may help (use them only if relevant):\n\n%1\n\n---\n\n%2")
        .arg(context.text, userText);
}

ChatRequest PrivacyGuard::buildRequest(const QString& providerKind, const QString& systemPrompt,
                                       const std::vector<storage::Message>& visiblePath,
                                       const RetrievedContext& context) const {
    ChatRequest r;
    if (!systemPrompt.trimmed().isEmpty()) r.messages.append({QStringLiteral("system"), systemPrompt});
    for (const storage::Message& m : visiblePath) {
        if (m.role == storage::Role::tool) continue;  // no provider here speaks tool calls
        const QString content = QString::fromStdString(m.content);
        if (m.role == storage::Role::assistant && content.trimmed().isEmpty()) continue;
        r.messages.append({QString::fromUtf8(storage::to_string(m.role).data(),
                                             static_cast<qsizetype>(storage::to_string(m.role).size())),
                           content});
    }
    if (providerKind == QLatin1String("local") && !context.isEmpty()) {
        for (qsizetype i = r.messages.size() - 1; i >= 0; --i) {
            if (r.messages[i].role == QLatin1String("user")) {
                r.messages[i].content = augment(r.messages[i].content, context);
                break;
            }
        }
    }
    return r;
}

}  // namespace bonsai::core
