// Import of "bonsai-conversations" v1 JSON: validate everything, then write everything in one transaction.
#include <nlohmann/json.hpp>

#include <cmath>
#include <unordered_map>

#include "bonsai/storage/export.h"
#include "sqlite_util.h"

namespace bonsai::storage {

namespace {

using nlohmann::json;

struct ImportedMessage {
    int64_t old_id = 0;
    std::optional<int64_t> old_parent;
    Message m;  // id/conversation/parent filled at write time
};

struct ImportedConversation {
    Conversation c;
    std::optional<int64_t> old_leaf;
    std::vector<ImportedMessage> messages;  // in insertion order: every parent before its children
};

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw Error("import refused, nothing was changed: " + where + ": " + what);
}

const json& field(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) fail(where, std::string("the field \"") + key + "\" is missing");
    return *it;
}

int64_t as_int(const json& v, const std::string& where, bool non_negative = false) {
    if (!v.is_number_integer()) fail(where, "expected an integer");
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) fail(where, "integer out of range");
    int64_t x = v.get<int64_t>();
    if (non_negative && x < 0) fail(where, "must not be negative");
    return x;
}

std::optional<int64_t> as_opt_id(const json& v, const std::string& where) {
    if (v.is_null()) return std::nullopt;
    return as_int(v, where);
}

std::string as_string(const json& v, const std::string& where) {
    if (!v.is_string()) fail(where, "expected a string");
    return v.get<std::string>();
}

double as_number(const json& v, const std::string& where) {
    if (!v.is_number()) fail(where, "expected a number");
    double x = v.get<double>();
    if (!std::isfinite(x) || x < 0) fail(where, "expected a finite, non-negative number");
    return x;
}

bool as_bool(const json& v, const std::string& where) {
    if (!v.is_boolean()) fail(where, "expected true or false");
    return v.get<bool>();
}

// Optional fields: absent means the default; present must have the right type.
template <typename F, typename T>
void optional_field(const json& obj, const char* key, const std::string& where, T& out, F convert) {
    auto it = obj.find(key);
    if (it != obj.end()) out = convert(*it, where + "." + key);
}

ImportedMessage parse_message(const json& j, const std::string& where) {
    if (!j.is_object()) fail(where, "expected an object");
    ImportedMessage im;
    im.old_id = as_int(field(j, "id", where), where + ".id");
    auto p = j.find("parent_id");
    if (p != j.end()) im.old_parent = as_opt_id(*p, where + ".parent_id");
    std::string role = as_string(field(j, "role", where), where + ".role");
    auto r = parse_role(role);
    if (!r) fail(where + ".role", "unknown role '" + role + "'");
    im.m.role = *r;
    im.m.content = as_string(field(j, "content", where), where + ".content");
    optional_field(j, "provider", where, im.m.provider, as_string);
    optional_field(j, "model", where, im.m.model, as_string);
    auto nonneg = [](const json& v, const std::string& w) { return as_int(v, w, true); };
    optional_field(j, "prompt_tokens", where, im.m.prompt_tokens, nonneg);
    optional_field(j, "completion_tokens", where, im.m.completion_tokens, nonneg);
    optional_field(j, "prompt_ms", where, im.m.timings.prompt_ms, as_number);
    optional_field(j, "generation_ms", where, im.m.timings.generation_ms, as_number);
    optional_field(j, "tokens_per_second", where, im.m.timings.tokens_per_second, as_number);
    std::string status = "complete";
    optional_field(j, "status", where, status, as_string);
    auto s = parse_status(status);
    if (!s) fail(where + ".status", "unknown status '" + status + "'");
    // A reply exported mid-stream is not streaming any more in this database.
    im.m.status = *s == MessageStatus::streaming ? MessageStatus::interrupted : *s;
    im.m.created_at = now_ms();
    optional_field(j, "created_at", where, im.m.created_at, [](const json& v, const std::string& w) { return as_int(v, w); });
    return im;
}

// Orders messages so each parent precedes its children (ancestors first, then by position in the file),
// refusing parents outside the conversation and cycles.
std::vector<ImportedMessage> topological(std::vector<ImportedMessage> in, const std::string& where) {
    std::unordered_map<int64_t, size_t> index;
    for (size_t i = 0; i < in.size(); ++i)
        if (!index.emplace(in[i].old_id, i).second)
            fail(where, "message id " + std::to_string(in[i].old_id) + " appears twice");
    for (const auto& m : in)
        if (m.old_parent && !index.count(*m.old_parent))
            fail(where, "message " + std::to_string(m.old_id) + " has parent_id " + std::to_string(*m.old_parent) +
                            ", which is not a message of this conversation");
    enum : char { fresh, visiting, placed };
    std::vector<char> state(in.size(), fresh);
    std::vector<size_t> order;
    for (size_t i = 0; i < in.size(); ++i) {
        // Walk up to the first placed ancestor (or a root) without recursion: chains can be long.
        std::vector<size_t> chain;
        size_t k = i;
        for (;;) {
            if (state[k] == placed) break;
            // Only the current walk has nodes in the visiting state: meeting one again is a loop.
            if (state[k] == visiting)
                fail(where, "the parent_id links of message " + std::to_string(in[k].old_id) + " form a cycle");
            state[k] = visiting;
            chain.push_back(k);
            if (!in[k].old_parent) break;
            k = index.at(*in[k].old_parent);
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            state[*it] = placed;
            order.push_back(*it);
        }
    }
    std::vector<ImportedMessage> out;
    out.reserve(in.size());
    for (size_t i : order) out.push_back(std::move(in[i]));
    return out;
}

std::vector<ImportedConversation> parse_document(const std::string& text) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) throw Error("import refused, nothing was changed: the file is not valid JSON");
    if (!doc.is_object()) fail("document", "expected a JSON object");
    auto f = doc.find("format");
    if (f == doc.end() || !f->is_string() || f->get<std::string>() != "bonsai-conversations")
        fail("document", "not a Bonsai conversation export (\"format\" must be \"bonsai-conversations\")");
    int64_t version = as_int(field(doc, "version", "document"), "version");
    if (version != 1)
        fail("version", "version " + std::to_string(version) + " is not supported (this Bonsai reads version 1)");
    const json& list = field(doc, "conversations", "document");
    if (!list.is_array()) fail("conversations", "expected an array");

    std::vector<ImportedConversation> out;
    for (size_t ci = 0; ci < list.size(); ++ci) {
        std::string where = "conversations[" + std::to_string(ci) + "]";
        const json& j = list[ci];
        if (!j.is_object()) fail(where, "expected an object");
        ImportedConversation ic;
        as_int(field(j, "id", where), where + ".id");  // required, only for reference: ids are reassigned
        ic.c.title = as_string(field(j, "title", where), where + ".title");
        int64_t now = now_ms();
        ic.c.created_at = now;
        auto as_i = [](const json& v, const std::string& w) { return as_int(v, w); };
        optional_field(j, "created_at", where, ic.c.created_at, as_i);
        ic.c.updated_at = ic.c.created_at;
        optional_field(j, "updated_at", where, ic.c.updated_at, as_i);
        optional_field(j, "pinned", where, ic.c.pinned, as_bool);
        optional_field(j, "archived", where, ic.c.archived, as_bool);
        std::string mode = "local";
        optional_field(j, "mode", where, mode, as_string);
        auto m = parse_mode(mode);
        if (!m) fail(where + ".mode", "unknown mode '" + mode + "' (expected local or cloud)");
        ic.c.mode = *m;
        optional_field(j, "model", where, ic.c.model, as_string);
        optional_field(j, "system_prompt", where, ic.c.system_prompt, as_string);
        optional_field(j, "active_leaf_id", where, ic.old_leaf, as_opt_id);

        const json& msgs = field(j, "messages", where);
        if (!msgs.is_array()) fail(where + ".messages", "expected an array");
        std::vector<ImportedMessage> parsed;
        for (size_t mi = 0; mi < msgs.size(); ++mi)
            parsed.push_back(parse_message(msgs[mi], where + ".messages[" + std::to_string(mi) + "]"));
        ic.messages = topological(std::move(parsed), where);
        if (ic.old_leaf) {
            bool found = false;
            for (const auto& im : ic.messages) found |= im.old_id == *ic.old_leaf;
            if (!found)
                fail(where + ".active_leaf_id",
                     std::to_string(*ic.old_leaf) + " is not a message of this conversation");
        }
        out.push_back(std::move(ic));
    }
    return out;
}

}  // namespace

std::vector<int64_t> import_json(History& history, const std::string& json_text) {
    std::vector<ImportedConversation> convs = parse_document(json_text);

    sqlite3* db = history.database().handle();
    detail::Tx tx(db);
    detail::Stmt ins_c(db,
                       "INSERT INTO conversations(title, created_at, updated_at, pinned, archived, mode, model, "
                       "system_prompt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    detail::Stmt ins_m(db,
                       "INSERT INTO messages(conversation_id, parent_id, role, content, provider, model, prompt_tokens, "
                       "completion_tokens, prompt_ms, generation_ms, tokens_per_second, status, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    detail::Stmt set_leaf(db, "UPDATE conversations SET active_leaf_id = ? WHERE id = ?");
    std::vector<int64_t> ids;
    for (const auto& ic : convs) {
        const Conversation& c = ic.c;
        ins_c.reset();
        ins_c.bind(1, c.title).bind(2, c.created_at).bind(3, c.updated_at).bind(4, c.pinned ? 1 : 0);
        ins_c.bind(5, c.archived ? 1 : 0).bind(6, to_string(c.mode)).bind(7, c.model).bind(8, c.system_prompt);
        ins_c.run();
        int64_t cid = sqlite3_last_insert_rowid(db);
        std::unordered_map<int64_t, int64_t> remap;
        for (const auto& im : ic.messages) {
            const Message& m = im.m;
            ins_m.reset();
            ins_m.bind(1, cid);
            ins_m.bind(2, im.old_parent ? std::optional<int64_t>(remap.at(*im.old_parent)) : std::nullopt);
            ins_m.bind(3, to_string(m.role)).bind(4, m.content).bind(5, m.provider).bind(6, m.model);
            ins_m.bind(7, m.prompt_tokens).bind(8, m.completion_tokens).bind(9, m.timings.prompt_ms);
            ins_m.bind(10, m.timings.generation_ms).bind(11, m.timings.tokens_per_second);
            ins_m.bind(12, to_string(m.status)).bind(13, m.created_at);
            ins_m.run();
            remap[im.old_id] = sqlite3_last_insert_rowid(db);
        }
        if (ic.old_leaf) {
            set_leaf.reset();
            set_leaf.bind(1, remap.at(*ic.old_leaf)).bind(2, cid);
            set_leaf.run();
        }
        ids.push_back(cid);
    }
    tx.commit();
    return ids;
}

}  // namespace bonsai::storage
