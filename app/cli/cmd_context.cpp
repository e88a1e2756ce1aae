// bonsai-cli context: add, list, search and remove items of the personal context store.
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "bonsai/storage/context_store.h"
#include "command.h"
#include "storage_cli.h"

namespace {

using namespace bonsai::cli;
namespace st = bonsai::storage;

std::vector<std::string> split_tags(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        out.push_back(s.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

st::ContextKind kind_of(const std::string& s) {
    auto k = st::parse_context_kind(s);
    if (!k) throw UsageError("--kind must be note, fact or document, got '" + s + "'");
    return *k;
}

int run_context(Args& args) {
    const std::string path = db_path(args);
    const std::string sub = subcommand(args);
    if (sub.empty()) throw UsageError("missing subcommand (add, list, search, remove)");

    if (sub == "add") {
        auto title = args.value({"--title", "-t"});
        auto text = args.value({"--text"});
        auto file = args.value({"--file"});
        auto kind = args.value({"--kind"});
        auto tags = args.value({"--tags"});
        auto source = args.value({"--source"});
        auto words = args.positionals();
        if (words.size() != 1) throw UsageError("add takes only options");
        if (!title) throw UsageError("add needs --title");
        if (text.has_value() == file.has_value()) throw UsageError("add needs exactly one of --text and --file");
        st::NewContextItem item;
        item.title = *title;
        item.kind = kind ? kind_of(*kind) : (file ? st::ContextKind::document : st::ContextKind::note);
        item.text = file ? read_file(*file) : *text;
        item.source = source ? *source : (file ? *file : "");
        if (tags) item.tags = split_tags(*tags);
        st::Database db(path);
        st::ContextStore store(db);
        int64_t id = store.add(item);
        std::cout << "added context item " << id << " (" << store.get(id)->chunk_count << " chunk(s), local only)\n";
        return 0;
    }
    if (sub == "list") {
        auto kind = args.value({"--kind"});
        auto tag = args.value({"--tag"});
        auto words = args.positionals();
        if (words.size() != 1) throw UsageError("list takes only options");
        st::Database db(path);
        st::ContextStore store(db);
        std::optional<st::ContextKind> k;
        if (kind) k = kind_of(*kind);
        for (const auto& it : store.list(k, tag ? *tag : std::string()))
            std::cout << it.id << "\t" << st::to_string(it.kind) << "\t" << one_line(it.title) << "\t"
                      << (it.tags.empty() ? "-" : join(it.tags, ",")) << "\t" << it.chunk_count << " chunk(s)\t"
                      << (it.local_only ? "local-only" : "SHAREABLE") << "\n";
        return 0;
    }
    if (sub == "search") {
        auto limit = args.integer({"--limit", "-n"});
        auto words = args.positionals();
        if (words.size() < 2) throw UsageError("search needs a QUERY");
        st::ContextSearchOptions o;
        o.mode = st::RankMode::bm25;  // the CLI has no embedding model
        if (limit) o.limit = static_cast<int>(*limit);
        st::Database db(path);
        st::ContextStore store(db);
        std::string query = join(std::vector<std::string>(words.begin() + 1, words.end()), " ");
        for (const auto& h : store.search(query, o))
            std::cout << h.item_id << "\t" << h.chunk_id << "\t" << one_line(h.title) << "\t" << one_line(h.snippet)
                      << "\n";
        return 0;
    }
    if (sub == "remove") {
        auto words = args.positionals();
        if (words.size() != 2) throw UsageError("remove needs one item ID");
        st::Database db(path);
        st::ContextStore store(db);
        long long id = parse_id(words[1], "item ID");
        if (!store.remove(id)) throw std::runtime_error("no context item with id " + std::to_string(id));
        std::cout << "removed context item " << id << "\n";
        return 0;
    }
    throw UsageError("unknown subcommand '" + sub + "'");
}

const Registration reg{"context",
                       "add --title T (--text S | --file F) [--kind note|fact|document] [--tags a,b] | list | "
                       "search QUERY | remove ID   [--db PATH]  the personal context store (local only)",
                       run_context};

}  // namespace
