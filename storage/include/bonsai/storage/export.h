#pragma once
// Export of conversations to Markdown (for people) and JSON (for backup and moving between machines),
// and import of that JSON. The JSON format is described in storage/EXPORT_FORMAT.md:
//   { "format": "bonsai-conversations", "version": 1, "exported_at": <ms>,
//     "conversations": [ { ..., "messages": [ { "id", "parent_id", ... } ] } ] }
// Import is all or nothing: the whole document is validated before anything is written, then every
// conversation goes in inside one transaction with fresh ids (parents and the active leaf remapped).
#include <cstdint>
#include <string>
#include <vector>

#include "bonsai/storage/history.h"

namespace bonsai::storage {

// Markdown of the conversations' active paths (branches not shown), in the given order.
std::string export_markdown(const History& history, const std::vector<int64_t>& conversation_ids);
// JSON document (pretty-printed) with every message of every branch.
std::string export_json(const History& history, const std::vector<int64_t>& conversation_ids);
// Ids of every live (not deleted) conversation, oldest first: what "export all" exports.
std::vector<int64_t> all_conversation_ids(const History& history);

// Imports a document made by export_json(). Returns the new conversation ids in document order.
// Throws Error (and changes nothing) for text that is not JSON, a foreign or newer format, a missing or
// mistyped field, an unknown enum spelling, duplicate message ids or a parent/leaf id that does not name a
// message of the same conversation (or forms a cycle).
std::vector<int64_t> import_json(History& history, const std::string& json_text);

}  // namespace bonsai::storage
