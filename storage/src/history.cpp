// Conversations and the message tree.
#include "bonsai/storage/history.h"

#include "history_rows.h"
#include "sqlite_util.h"

namespace bonsai::storage {

using detail::Stmt;
using detail::Tx;

namespace {

void require_conversation(sqlite3* db, int64_t id, bool live) {
    Stmt s(db, "SELECT deleted_at FROM conversations WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) throw Error("no conversation with id " + std::to_string(id));
    if (live && !s.is_null(0)) throw Error("conversation " + std::to_string(id) + " is deleted (restore it first)");
}

}  // namespace

int64_t History::create_conversation(const NewConversation& c) {
    int64_t now = now_ms();
    Stmt s(db_.handle(),
           "INSERT INTO conversations(title, created_at, updated_at, mode, model, system_prompt) "
           "VALUES (?, ?, ?, ?, ?, ?)");
    s.bind(1, c.title).bind(2, now).bind(3, now).bind(4, to_string(c.mode)).bind(5, c.model).bind(6, c.system_prompt);
    s.run();
    return sqlite3_last_insert_rowid(db_.handle());
}

Conversation History::conversation(int64_t id) const {
    Stmt s(db_.handle(), std::string(detail::kConversationSelect) + " WHERE c.id = ?");
    s.bind(1, id);
    if (!s.step()) throw Error("no conversation with id " + std::to_string(id));
    return detail::read_conversation(s);
}

std::vector<Conversation> History::list_conversations(const ListFilter& f) const {
    std::string sql = detail::kConversationSelect;
    sql += f.deleted ? " WHERE c.deleted_at IS NOT NULL" : " WHERE c.deleted_at IS NULL";
    if (!f.include_archived) sql += " AND c.archived = 0";
    sql += f.deleted ? " ORDER BY c.deleted_at DESC, c.id DESC" : " ORDER BY c.pinned DESC, c.updated_at DESC, c.id DESC";
    Stmt s(db_.handle(), sql);
    std::vector<Conversation> out;
    while (s.step()) out.push_back(detail::read_conversation(s));
    return out;
}

void History::set_flag(int64_t id, const char* column, int64_t value, bool touch) {
    require_conversation(db_.handle(), id, false);
    Stmt s(db_.handle(), std::string("UPDATE conversations SET ") + column + " = ?" +
                             (touch ? ", updated_at = ?" : "") + " WHERE id = ?");
    s.bind(1, value);
    if (touch) s.bind(2, now_ms());
    s.bind(touch ? 3 : 2, id);
    s.run();
}

void History::rename(int64_t id, const std::string& title) {
    require_conversation(db_.handle(), id, false);
    Stmt s(db_.handle(), "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?");
    s.bind(1, title).bind(2, now_ms()).bind(3, id);
    s.run();
}

void History::set_pinned(int64_t id, bool pinned) { set_flag(id, "pinned", pinned ? 1 : 0, false); }
void History::set_archived(int64_t id, bool archived) { set_flag(id, "archived", archived ? 1 : 0, false); }

void History::set_system_prompt(int64_t id, const std::string& prompt) {
    require_conversation(db_.handle(), id, false);
    Stmt s(db_.handle(), "UPDATE conversations SET system_prompt = ?, updated_at = ? WHERE id = ?");
    s.bind(1, prompt).bind(2, now_ms()).bind(3, id);
    s.run();
}

void History::soft_delete(int64_t id) {
    require_conversation(db_.handle(), id, false);
    Stmt s(db_.handle(), "UPDATE conversations SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL");
    s.bind(1, now_ms()).bind(2, id);
    s.run();
}

void History::restore(int64_t id) {
    require_conversation(db_.handle(), id, false);
    Stmt s(db_.handle(), "UPDATE conversations SET deleted_at = NULL WHERE id = ?");
    s.bind(1, id);
    s.run();
}

int History::purge_deleted(std::optional<int> older_than_days, int64_t now) {
    Stmt s(db_.handle(), "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND (?1 IS NULL OR deleted_at <= ?1)");
    if (older_than_days) {
        if (*older_than_days < 0) throw Error("purge: the number of days must not be negative");
        s.bind(1, now - static_cast<int64_t>(*older_than_days) * 86'400'000);
    } else {
        s.bind_null(1);
    }
    Tx tx(db_.handle());
    s.run();
    int n = sqlite3_changes(db_.handle());
    tx.commit();
    return n;
}

int64_t History::insert_message(int64_t conversation_id, std::optional<int64_t> parent_id, const NewMessage& m,
                                MessageStatus status) {
    sqlite3* db = db_.handle();
    Tx tx(db);
    require_conversation(db, conversation_id, true);
    if (parent_id) {
        Stmt p(db, "SELECT conversation_id FROM messages WHERE id = ?");
        p.bind(1, *parent_id);
        if (!p.step()) throw Error("no message with id " + std::to_string(*parent_id) + " to reply to");
        if (p.int64(0) != conversation_id)
            throw Error("message " + std::to_string(*parent_id) + " belongs to another conversation");
    }
    int64_t now = now_ms();
    Stmt s(db,
           "INSERT INTO messages(conversation_id, parent_id, role, content, provider, model, prompt_tokens, "
           "completion_tokens, prompt_ms, generation_ms, tokens_per_second, status, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, conversation_id).bind(2, parent_id).bind(3, to_string(m.role)).bind(4, m.content);
    s.bind(5, m.provider).bind(6, m.model).bind(7, m.prompt_tokens).bind(8, m.completion_tokens);
    s.bind(9, m.timings.prompt_ms).bind(10, m.timings.generation_ms).bind(11, m.timings.tokens_per_second);
    s.bind(12, to_string(status)).bind(13, now);
    s.run();
    int64_t id = sqlite3_last_insert_rowid(db);
    Stmt u(db, "UPDATE conversations SET active_leaf_id = ?, updated_at = ? WHERE id = ?");
    u.bind(1, id).bind(2, now).bind(3, conversation_id);
    u.run();
    tx.commit();
    return id;
}

int64_t History::append_message(int64_t conversation_id, const NewMessage& m) {
    return insert_message(conversation_id, conversation(conversation_id).active_leaf_id, m, MessageStatus::complete);
}

int64_t History::add_message(int64_t conversation_id, std::optional<int64_t> parent_id, const NewMessage& m) {
    return insert_message(conversation_id, parent_id, m, MessageStatus::complete);
}

Message History::message(int64_t id) const {
    Stmt s(db_.handle(), "SELECT " + detail::message_columns("m") + " FROM messages m WHERE m.id = ?");
    s.bind(1, id);
    if (!s.step()) throw Error("no message with id " + std::to_string(id));
    return detail::read_message(s, 0);
}

std::vector<Message> History::children(int64_t conversation_id, std::optional<int64_t> parent_id) const {
    Stmt s(db_.handle(), "SELECT " + detail::message_columns("m") +
                             " FROM messages m WHERE m.conversation_id = ? AND m.parent_id IS ? ORDER BY m.id");
    s.bind(1, conversation_id).bind(2, parent_id);
    std::vector<Message> out;
    while (s.step()) out.push_back(detail::read_message(s, 0));
    return out;
}

std::vector<Message> History::active_path(int64_t conversation_id) const {
    // Walk up from the leaf; parents always have smaller ids, so the walk ends (the depth cap is a guard
    // against a hand-edited file with a cycle).
    Stmt s(db_.handle(),
           "WITH RECURSIVE up(id, depth) AS ("
           "  SELECT active_leaf_id, 0 FROM conversations WHERE id = ?1 AND active_leaf_id IS NOT NULL"
           "  UNION ALL SELECT m.parent_id, up.depth + 1 FROM messages m JOIN up ON m.id = up.id"
           "  WHERE m.parent_id IS NOT NULL AND up.depth < 1000000) "
           "SELECT " + detail::message_columns("m") + " FROM up JOIN messages m ON m.id = up.id "
           "WHERE m.conversation_id = ?1 ORDER BY up.depth DESC");
    s.bind(1, conversation_id);
    std::vector<Message> out;
    while (s.step()) out.push_back(detail::read_message(s, 0));
    return out;
}

std::vector<Message> History::messages(int64_t conversation_id) const {
    Stmt s(db_.handle(),
           "SELECT " + detail::message_columns("m") + " FROM messages m WHERE m.conversation_id = ? ORDER BY m.id");
    s.bind(1, conversation_id);
    std::vector<Message> out;
    while (s.step()) out.push_back(detail::read_message(s, 0));
    return out;
}

int64_t History::select_branch(int64_t message_id) {
    Message start = message(message_id);
    int64_t leaf = start.id;
    Stmt next(db_.handle(), "SELECT max(id) FROM messages WHERE parent_id = ?");
    for (;;) {
        next.reset();
        next.bind(1, leaf);
        if (!next.step() || next.is_null(0)) break;
        leaf = next.int64(0);
    }
    Stmt u(db_.handle(), "UPDATE conversations SET active_leaf_id = ? WHERE id = ?");
    u.bind(1, leaf).bind(2, start.conversation_id);
    u.run();
    return leaf;
}

StreamingReply History::begin_reply(int64_t conversation_id, std::optional<int64_t> parent_id,
                                    const std::string& provider, const std::string& model) {
    if (!parent_id) parent_id = conversation(conversation_id).active_leaf_id;
    NewMessage m;
    m.role = Role::assistant;
    m.provider = provider;
    m.model = model;
    int64_t id = insert_message(conversation_id, parent_id, m, MessageStatus::streaming);
    return StreamingReply(db_.handle(), id, conversation_id);
}

}  // namespace bonsai::storage
