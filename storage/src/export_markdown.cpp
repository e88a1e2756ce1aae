// Markdown export: one section per conversation, its active path as "### Role" blocks.
#include <ctime>
#include <sstream>

#include "bonsai/storage/export.h"
#include "sqlite_util.h"

namespace bonsai::storage {

namespace {

// "2024-05-01 12:34 UTC"
std::string utc(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

std::string heading(Role r) {
    switch (r) {
        case Role::system: return "System";
        case Role::user: return "User";
        case Role::assistant: return "Assistant";
        case Role::tool: return "Tool";
    }
    return "User";
}

}  // namespace

std::vector<int64_t> all_conversation_ids(const History& history) {
    detail::Stmt s(history.database().handle(), "SELECT id FROM conversations WHERE deleted_at IS NULL ORDER BY id");
    std::vector<int64_t> ids;
    while (s.step()) ids.push_back(s.int64(0));
    return ids;
}

std::string export_markdown(const History& history, const std::vector<int64_t>& ids) {
    std::ostringstream out;
    bool first = true;
    for (int64_t id : ids) {
        Conversation c = history.conversation(id);
        if (!first) out << "\n---\n\n";
        first = false;
        out << "# " << (c.title.empty() ? "Untitled conversation" : c.title) << "\n\n";
        out << "- Created: " << utc(c.created_at) << "\n- Mode: " << to_string(c.mode) << "\n";
        if (!c.model.empty()) out << "- Model: " << c.model << "\n";
        out << "\n";
        if (!c.system_prompt.empty()) out << "## System prompt\n\n" << c.system_prompt << "\n\n";
        for (const Message& m : history.active_path(id)) {
            out << "### " << heading(m.role);
            if (m.role == Role::assistant && !(m.provider.empty() && m.model.empty())) {
                out << " (" << m.provider << (m.provider.empty() || m.model.empty() ? "" : ", ") << m.model << ")";
            }
            out << " — " << utc(m.created_at);
            if (m.status == MessageStatus::interrupted) out << " — interrupted";
            out << "\n\n" << m.content << "\n\n";
        }
    }
    return out.str();
}

}  // namespace bonsai::storage
