// bonsai-cli history: list, show, search, export and import the conversation history.
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "bonsai/storage/export.h"
#include "bonsai/storage/history.h"
#include "command.h"
#include "storage_cli.h"

namespace {

using namespace bonsai::cli;
namespace st = bonsai::storage;

std::string local_time(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

std::vector<int64_t> ids_from(const std::vector<std::string>& words, size_t first) {
    std::vector<int64_t> ids;
    for (size_t i = first; i < words.size(); ++i) ids.push_back(parse_id(words[i], "conversation ID"));
    return ids;
}

int run_history(Args& args) {
    const std::string path = db_path(args);
    const std::string sub = subcommand(args);
    if (sub.empty()) throw UsageError("missing subcommand (list, show, search, export, import, rename, delete, restore, purge)");

    if (sub == "list") {
        st::ListFilter f;
        f.deleted = args.flag({"--deleted"});
        f.include_archived = !args.flag({"--no-archived"});
        auto words = args.positionals();
        if (words.size() != 1) throw UsageError("list takes no arguments");
        st::Database db(path);
        st::History h(db);
        for (const auto& c : h.list_conversations(f)) {
            std::string flags = std::string(c.pinned ? "pinned" : "") + (c.pinned && c.archived ? "," : "") +
                                (c.archived ? "archived" : "");
            std::cout << c.id << "\t" << local_time(c.updated_at) << "\t" << (flags.empty() ? "-" : flags) << "\t"
                      << c.message_count << " messages\t" << one_line(c.title) << "\n";
        }
        return 0;
    }
    if (sub == "show") {
        auto words = args.positionals();
        if (words.size() != 2) throw UsageError("show needs one conversation ID");
        st::Database db(path);
        st::History h(db);
        std::cout << st::export_markdown(h, {parse_id(words[1], "conversation ID")});
        return 0;
    }
    if (sub == "search") {
        auto limit = args.integer({"--limit", "-n"});
        auto words = args.positionals();
        if (words.size() < 2) throw UsageError("search needs a QUERY");
        st::SearchOptions o;
        if (limit) o.limit = static_cast<int>(*limit);
        st::Database db(path);
        st::History h(db);
        std::string query = join(std::vector<std::string>(words.begin() + 1, words.end()), " ");
        for (const auto& hit : h.search(query, o))
            std::cout << hit.message.conversation_id << "\t" << hit.message.id << "\t" << one_line(hit.conversation_title)
                      << "\t" << one_line(hit.snippet) << "\n";
        return 0;
    }
    if (sub == "export") {
        auto format = args.value({"--format", "-f"});
        auto out = args.value({"--output", "-o"});
        auto words = args.positionals();
        if (!format) format = (out && out->ends_with(".md")) ? "md" : "json";
        if (*format != "md" && *format != "json") throw UsageError("--format must be md or json");
        st::Database db(path);
        st::History h(db);
        std::vector<int64_t> ids = words.size() > 1 ? ids_from(words, 1) : st::all_conversation_ids(h);
        std::string text = *format == "md" ? st::export_markdown(h, ids) : st::export_json(h, ids);
        if (out) {
            write_file(*out, text);
            std::cerr << "exported " << ids.size() << " conversation(s) to " << *out << "\n";
        } else {
            std::cout << text;
        }
        return 0;
    }
    if (sub == "import") {
        auto words = args.positionals();
        if (words.size() != 2) throw UsageError("import needs one FILE");
        std::string text = read_file(words[1]);
        st::Database db(path);
        st::History h(db);
        auto ids = st::import_json(h, text);
        std::cout << "imported " << ids.size() << " conversation(s):";
        for (auto id : ids) std::cout << " " << id;
        std::cout << "\n";
        return 0;
    }
    if (sub == "rename") {
        auto words = args.positionals();
        if (words.size() != 3) throw UsageError("rename needs ID and TITLE");
        st::Database db(path);
        st::History(db).rename(parse_id(words[1], "conversation ID"), words[2]);
        return 0;
    }
    if (sub == "delete" || sub == "restore") {
        auto words = args.positionals();
        if (words.size() < 2) throw UsageError(sub + " needs at least one conversation ID");
        st::Database db(path);
        st::History h(db);
        for (auto id : ids_from(words, 1)) sub == "delete" ? h.soft_delete(id) : h.restore(id);
        return 0;
    }
    if (sub == "purge") {
        auto days = args.integer({"--older-than"});
        auto words = args.positionals();
        if (words.size() != 1) throw UsageError("purge takes no arguments besides --older-than DAYS");
        st::Database db(path);
        st::History h(db);
        std::optional<int> d;
        if (days) d = static_cast<int>(*days);
        std::cout << "purged " << h.purge_deleted(d) << " conversation(s)\n";
        return 0;
    }
    throw UsageError("unknown subcommand '" + sub + "'");
}

const Registration reg{
    "history",
    "list | show ID | search QUERY | export [ID...] --format md|json [-o FILE] | import FILE | rename ID TITLE | "
    "delete ID | restore ID | purge [--older-than DAYS]   [--db PATH]  conversation history",
    run_history};

}  // namespace
