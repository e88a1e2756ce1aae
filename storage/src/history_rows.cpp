#include "history_rows.h"

namespace bonsai::storage::detail {

std::string message_columns(const char* alias) {
    static const char* const cols[] = {"id", "conversation_id", "parent_id", "role", "content", "provider", "model",
                                       "prompt_tokens", "completion_tokens", "prompt_ms", "generation_ms",
                                       "tokens_per_second", "status", "created_at"};
    std::string out;
    for (const char* c : cols) {
        if (!out.empty()) out += ", ";
        out += std::string(alias) + "." + c;
    }
    return out;
}

Message read_message(const Stmt& s, int c) {
    Message m;
    m.id = s.int64(c + 0);
    m.conversation_id = s.int64(c + 1);
    m.parent_id = s.opt_int64(c + 2);
    // The schema's CHECK constraints keep these spellings valid; the fallbacks only guard hand-edited files.
    m.role = parse_role(s.text(c + 3)).value_or(Role::user);
    m.content = s.text(c + 4);
    m.provider = s.text(c + 5);
    m.model = s.text(c + 6);
    m.prompt_tokens = s.int64(c + 7);
    m.completion_tokens = s.int64(c + 8);
    m.timings.prompt_ms = s.real(c + 9);
    m.timings.generation_ms = s.real(c + 10);
    m.timings.tokens_per_second = s.real(c + 11);
    m.status = parse_status(s.text(c + 12)).value_or(MessageStatus::interrupted);
    m.created_at = s.int64(c + 13);
    return m;
}

const char* const kConversationSelect =
    "SELECT c.id, c.title, c.created_at, c.updated_at, c.pinned, c.archived, c.mode, c.model, c.system_prompt, "
    "c.deleted_at, c.active_leaf_id, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) "
    "FROM conversations c";

Conversation read_conversation(const Stmt& s) {
    Conversation c;
    c.id = s.int64(0);
    c.title = s.text(1);
    c.created_at = s.int64(2);
    c.updated_at = s.int64(3);
    c.pinned = s.int64(4) != 0;
    c.archived = s.int64(5) != 0;
    c.mode = parse_mode(s.text(6)).value_or(Mode::local);
    c.model = s.text(7);
    c.system_prompt = s.text(8);
    c.deleted_at = s.opt_int64(9);
    c.active_leaf_id = s.opt_int64(10);
    c.message_count = s.int64(11);
    return c;
}

}  // namespace bonsai::storage::detail
