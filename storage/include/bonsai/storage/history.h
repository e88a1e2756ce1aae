#pragma once
// Conversation history: conversations, messages as a tree (edits and regenerations are sibling branches),
// streaming replies saved as they grow, full-text search, and soft delete with undo.
//
// The tree: a message's parent is the message it answers or follows (nullopt for a conversation's first
// message). Editing a user message adds a sibling under the same parent; regenerating a reply adds a
// sibling reply. The conversation remembers its active leaf; the active path is the chain from the root
// down to that leaf, which is what a chat view shows and what a model is fed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/storage/database.h"
#include "bonsai/storage/streaming_reply.h"
#include "bonsai/storage/types.h"

namespace bonsai::storage {

// What a new conversation starts with.
struct NewConversation {
    std::string title;
    Mode mode = Mode::local;
    std::string model;          // model name or file the conversation was started with ("" = default)
    std::string system_prompt;
};

// What a new message carries (the id, conversation, parent, status and timestamp are set by History).
struct NewMessage {
    Role role = Role::user;
    std::string content;
    std::string provider;       // "local", "openai", ... ("" for user messages)
    std::string model;
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    Timings timings;
};

// Which conversations list_conversations() returns. Deleted ones are never mixed with live ones.
struct ListFilter {
    bool include_archived = true;
    bool deleted = false;       // true: only soft-deleted conversations (the trash); false: only live ones
};

// One full-text search hit.
struct MessageHit {
    Message message;
    std::string conversation_title;
    std::string snippet;        // a window of the message with every match wrapped in the markers
    double score = 0;           // FTS5 bm25(): lower (more negative) is more relevant
};

struct SearchOptions {
    int limit = 20;
    std::string highlight_open = "[";   // wrapped around each matched term in snippets
    std::string highlight_close = "]";
    int snippet_tokens = 12;            // snippet length in tokens (1..64)
    bool include_archived = true;       // soft-deleted conversations are never searched
};

class History {
public:
    explicit History(Database& db) : db_(db) {}

    // ---- conversations
    int64_t create_conversation(const NewConversation& c);
    Conversation conversation(int64_t id) const;                 // throws Error when there is none
    std::vector<Conversation> list_conversations(const ListFilter& f = {}) const;  // pinned first, newest first
    void rename(int64_t id, const std::string& title);
    void set_pinned(int64_t id, bool pinned);
    void set_archived(int64_t id, bool archived);
    void set_system_prompt(int64_t id, const std::string& prompt);
    void soft_delete(int64_t id);        // into the trash: hidden from lists and search, restorable
    void restore(int64_t id);            // undo soft_delete()
    // Permanently removes trashed conversations (and their messages): all of them, or only those deleted
    // at least `older_than_days` days before `now`. Returns how many were removed.
    int purge_deleted(std::optional<int> older_than_days = std::nullopt, int64_t now = now_ms());

    // ---- messages
    // Adds a message under the conversation's active leaf (a plain next turn) and makes it the active leaf.
    int64_t append_message(int64_t conversation_id, const NewMessage& m);
    // Adds a message under an explicit parent (nullopt: a new root) and makes it the active leaf:
    // use the edited message's parent for an edit, the user message for a regeneration.
    int64_t add_message(int64_t conversation_id, std::optional<int64_t> parent_id, const NewMessage& m);
    Message message(int64_t id) const;                           // throws Error when there is none
    // Children of `parent_id` (nullopt: the roots), oldest first: the branches at that point.
    std::vector<Message> children(int64_t conversation_id, std::optional<int64_t> parent_id) const;
    // Root to active leaf. Empty for an empty conversation.
    std::vector<Message> active_path(int64_t conversation_id) const;
    // Every message of the conversation, oldest first (all branches).
    std::vector<Message> messages(int64_t conversation_id) const;
    // Switches branch: from `message_id` down, following the newest child at each level, to a leaf; that
    // leaf becomes the active leaf. Returns it.
    int64_t select_branch(int64_t message_id);

    // Starts an assistant reply (status 'streaming') under `parent_id`, or under the active leaf when
    // nullopt, and makes it the active leaf. The row exists (committed) when this returns.
    StreamingReply begin_reply(int64_t conversation_id, std::optional<int64_t> parent_id,
                               const std::string& provider, const std::string& model);

    // ---- search
    // Full-text search over the messages of live conversations. The query is plain words (each must occur,
    // any order; a trailing * makes a word a prefix); FTS5 operators are not interpreted.
    std::vector<MessageHit> search(std::string_view query, const SearchOptions& o = {}) const;

    Database& database() const { return db_; }

private:
    int64_t insert_message(int64_t conversation_id, std::optional<int64_t> parent_id, const NewMessage& m,
                           MessageStatus status);
    void set_flag(int64_t id, const char* column, int64_t value, bool touch);

    Database& db_;
};

}  // namespace bonsai::storage
