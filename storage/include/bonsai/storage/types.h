#pragma once
// Plain records of the history store, and the text forms of their enums (the spellings stored in SQLite
// and in exports).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bonsai::storage {

enum class Mode { local, cloud };                            // who answers the conversation by default
enum class Role { system, user, assistant, tool };
enum class MessageStatus { complete, streaming, interrupted };

std::string_view to_string(Mode m);
std::string_view to_string(Role r);
std::string_view to_string(MessageStatus s);
// Parsers: nullopt for anything but the exact lower-case spellings above.
std::optional<Mode> parse_mode(std::string_view s);
std::optional<Role> parse_role(std::string_view s);
std::optional<MessageStatus> parse_status(std::string_view s);

struct Conversation {
    int64_t id = 0;
    std::string title;
    int64_t created_at = 0;              // ms since the epoch
    int64_t updated_at = 0;              // last rename/flag change or new message
    bool pinned = false;
    bool archived = false;
    Mode mode = Mode::local;
    std::string model;
    std::string system_prompt;
    std::optional<int64_t> deleted_at;   // set while the conversation is in the trash
    std::optional<int64_t> active_leaf_id;  // the message the visible branch ends at
    int64_t message_count = 0;           // all branches
};

struct Timings {
    double prompt_ms = 0;                // prompt processing time
    double generation_ms = 0;            // decode time
    double tokens_per_second = 0;        // decode speed
};

struct Message {
    int64_t id = 0;
    int64_t conversation_id = 0;
    std::optional<int64_t> parent_id;    // nullopt for a root
    Role role = Role::user;
    std::string content;
    std::string provider;
    std::string model;
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    Timings timings;
    MessageStatus status = MessageStatus::complete;
    int64_t created_at = 0;
};

}  // namespace bonsai::storage
