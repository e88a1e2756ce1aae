// Full-text search over messages (the messages_fts external-content index, kept in sync by triggers).
#include <algorithm>

#include "bonsai/storage/history.h"
#include "fts_query.h"
#include "history_rows.h"
#include "sqlite_util.h"

namespace bonsai::storage {

std::vector<MessageHit> History::search(std::string_view query, const SearchOptions& o) const {
    std::string match = detail::fts_query(query, " ");
    if (match.empty() || o.limit <= 0) return {};
    detail::Stmt s(db_.handle(),
                   "SELECT " + detail::message_columns("m") +
                       ", c.title, snippet(messages_fts, 0, ?1, ?2, '…', ?3), bm25(messages_fts) "
                       "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                       "JOIN conversations c ON c.id = m.conversation_id "
                       "WHERE messages_fts MATCH ?4 AND c.deleted_at IS NULL AND (?5 OR c.archived = 0) "
                       "ORDER BY bm25(messages_fts), m.id LIMIT ?6");
    s.bind(1, o.highlight_open).bind(2, o.highlight_close).bind(3, std::clamp(o.snippet_tokens, 1, 64));
    s.bind(4, match).bind(5, o.include_archived ? 1 : 0).bind(6, o.limit);
    std::vector<MessageHit> out;
    constexpr int n = detail::kMessageColumnCount;
    while (s.step()) {
        MessageHit h;
        h.message = detail::read_message(s, 0);
        h.conversation_title = s.text(n);
        h.snippet = s.text(n + 1);
        h.score = s.real(n + 2);
        out.push_back(std::move(h));
    }
    return out;
}

}  // namespace bonsai::storage
