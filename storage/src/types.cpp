// Text forms of the history enums: the spellings stored in SQLite and in exports.
#include "bonsai/storage/types.h"

namespace bonsai::storage {

std::string_view to_string(Mode m) { return m == Mode::cloud ? "cloud" : "local"; }

std::string_view to_string(Role r) {
    switch (r) {
        case Role::system: return "system";
        case Role::user: return "user";
        case Role::assistant: return "assistant";
        case Role::tool: return "tool";
    }
    return "user";
}

std::string_view to_string(MessageStatus s) {
    switch (s) {
        case MessageStatus::complete: return "complete";
        case MessageStatus::streaming: return "streaming";
        case MessageStatus::interrupted: return "interrupted";
    }
    return "complete";
}

std::optional<Mode> parse_mode(std::string_view s) {
    if (s == "local") return Mode::local;
    if (s == "cloud") return Mode::cloud;
    return std::nullopt;
}

std::optional<Role> parse_role(std::string_view s) {
    for (Role r : {Role::system, Role::user, Role::assistant, Role::tool})
        if (to_string(r) == s) return r;
    return std::nullopt;
}

std::optional<MessageStatus> parse_status(std::string_view s) {
    for (MessageStatus x : {MessageStatus::complete, MessageStatus::streaming, MessageStatus::interrupted})
        if (to_string(x) == s) return x;
    return std::nullopt;
}

}  // namespace bonsai::storage
