// JSON export in the "bonsai-conversations" version 1 format (storage/EXPORT_FORMAT.md).
#include <nlohmann/json.hpp>

#include "bonsai/storage/export.h"

namespace bonsai::storage {

std::string export_json(const History& history, const std::vector<int64_t>& ids) {
    nlohmann::json conversations = nlohmann::json::array();
    for (int64_t id : ids) {
        Conversation c = history.conversation(id);
        nlohmann::json messages = nlohmann::json::array();
        for (const Message& m : history.messages(id)) {
            messages.push_back({
                {"id", m.id},
                {"parent_id", m.parent_id ? nlohmann::json(*m.parent_id) : nlohmann::json(nullptr)},
                {"role", to_string(m.role)},
                {"content", m.content},
                {"provider", m.provider},
                {"model", m.model},
                {"prompt_tokens", m.prompt_tokens},
                {"completion_tokens", m.completion_tokens},
                {"prompt_ms", m.timings.prompt_ms},
                {"generation_ms", m.timings.generation_ms},
                {"tokens_per_second", m.timings.tokens_per_second},
                {"status", to_string(m.status)},
                {"created_at", m.created_at},
            });
        }
        conversations.push_back({
            {"id", c.id},
            {"title", c.title},
            {"created_at", c.created_at},
            {"updated_at", c.updated_at},
            {"pinned", c.pinned},
            {"archived", c.archived},
            {"mode", to_string(c.mode)},
            {"model", c.model},
            {"system_prompt", c.system_prompt},
            {"active_leaf_id", c.active_leaf_id ? nlohmann::json(*c.active_leaf_id) : nlohmann::json(nullptr)},
            {"messages", std::move(messages)},
        });
    }
    nlohmann::json doc = {
        {"format", "bonsai-conversations"},
        {"version", 1},
        {"exported_at", now_ms()},
        {"conversations", std::move(conversations)},
    };
    // Invalid UTF-8 in stored text (SQLite does not check) becomes U+FFFD instead of failing the export.
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace bonsai::storage
