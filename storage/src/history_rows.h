#pragma once
// Row <-> struct mapping shared by the history sources (history.cpp, export/import).
#include <string>

#include "bonsai/storage/types.h"
#include "sqlite_util.h"

namespace bonsai::storage::detail {

// "<a>.id, <a>.conversation_id, ..." : the columns read_message() expects, 14 of them.
std::string message_columns(const char* alias);
constexpr int kMessageColumnCount = 14;
Message read_message(const Stmt& s, int first_column);

// The conversation columns read_conversation() expects (alias "c"), 12 of them.
extern const char* const kConversationSelect;
Conversation read_conversation(const Stmt& s);

}  // namespace bonsai::storage::detail
