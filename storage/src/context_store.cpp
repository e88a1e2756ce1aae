// The personal context store: items, chunks, embeddings (see context_store.h).
#include "bonsai/storage/context_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "bonsai/storage/chunking.h"
#include "fts_query.h"
#include "sqlite_util.h"

namespace bonsai::storage {

using detail::Stmt;

std::string_view to_string(ContextKind k) {
    switch (k) {
        case ContextKind::note: return "note";
        case ContextKind::fact: return "fact";
        case ContextKind::document: return "document";
    }
    return "note";
}

std::optional<ContextKind> parse_context_kind(std::string_view s) {
    for (ContextKind k : {ContextKind::note, ContextKind::fact, ContextKind::document})
        if (to_string(k) == s) return k;
    return std::nullopt;
}

namespace {

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::vector<std::string> normalize_tags(const std::vector<std::string>& tags) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& t : tags) {
        std::string x = trim(t);
        if (!x.empty() && seen.insert(x).second) out.push_back(std::move(x));
    }
    return out;
}

std::vector<std::string> parse_tags(const std::string& json_text) {
    std::vector<std::string> out;
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& v : j)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

constexpr const char* kItemSelect =
    "SELECT i.id, i.kind, i.title, i.text, i.source, i.tags, i.created_at, i.updated_at, i.local_only, "
    "(SELECT count(*) FROM context_chunks ch WHERE ch.item_id = i.id) FROM context_items i";

ContextItem read_item(const Stmt& s) {
    ContextItem it;
    it.id = s.int64(0);
    it.kind = parse_context_kind(s.text(1)).value_or(ContextKind::note);
    it.title = s.text(2);
    it.text = s.text(3);
    it.source = s.text(4);
    it.tags = parse_tags(s.text(5));
    it.created_at = s.int64(6);
    it.updated_at = s.int64(7);
    it.local_only = s.int64(8) != 0;
    it.chunk_count = s.int64(9);
    return it;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        dot += double(a[i]) * double(b[i]);
        na += double(a[i]) * double(a[i]);
        nb += double(b[i]) * double(b[i]);
    }
    if (na <= 0 || nb <= 0) return 0;
    return dot / (std::sqrt(na) * std::sqrt(nb));
}

// The start of a chunk, cut at a UTF-8 boundary, for hits that have no FTS snippet.
std::string lead(const std::string& text, size_t max_bytes = 200) {
    if (text.size() <= max_bytes) return text;
    size_t c = max_bytes;
    while (c > 0 && (static_cast<unsigned char>(text[c]) & 0xC0) == 0x80) --c;
    return text.substr(0, c) + "…";
}

}  // namespace

ContextStore::ContextStore(Database& db, EmbedFn embed) : db_(db), embed_(std::move(embed)) {}

std::vector<float> ContextStore::embed_checked(std::string_view text) const {
    if (!embed_) throw Error("this search needs an embedding function, and none was given");
    std::vector<float> v = embed_(text);
    if (v.empty()) throw Error("the embedding function returned an empty vector");
    for (float x : v)
        if (!std::isfinite(x)) throw Error("the embedding function returned a non-finite value");
    return v;
}

int64_t ContextStore::add(const NewContextItem& item) {
    if (trim(item.title).empty()) throw Error("a context item needs a title");
    if (trim(item.text).empty()) throw Error("context item '" + item.title + "' has no text");
    std::vector<TextChunk> chunks = split_into_chunks(item.text);
    // Embed before the transaction: the embedding model may be slow, and the write lock should be short.
    std::vector<std::vector<float>> vectors;
    if (embed_)
        for (const auto& c : chunks) vectors.push_back(embed_checked(c.text));

    nlohmann::json tags = normalize_tags(item.tags);
    sqlite3* db = db_.handle();
    detail::Tx tx(db);
    int64_t now = now_ms();
    Stmt s(db, "INSERT INTO context_items(kind, title, text, source, tags, created_at, updated_at, local_only) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, 1)");
    s.bind(1, to_string(item.kind)).bind(2, item.title).bind(3, item.text).bind(4, item.source);
    s.bind(5, tags.dump()).bind(6, now).bind(7, now);
    s.run();
    int64_t id = sqlite3_last_insert_rowid(db);
    Stmt c(db, "INSERT INTO context_chunks(item_id, seq, byte_offset, title, text, embedding) VALUES (?, ?, ?, ?, ?, ?)");
    for (size_t k = 0; k < chunks.size(); ++k) {
        c.reset();
        c.bind(1, id).bind(2, static_cast<int64_t>(k)).bind(3, static_cast<int64_t>(chunks[k].offset));
        c.bind(4, item.title).bind(5, chunks[k].text);
        if (embed_)
            c.bind_blob(6, vectors[k].data(), vectors[k].size() * sizeof(float));
        else
            c.bind_null(6);
        c.run();
    }
    tx.commit();
    return id;
}

std::optional<ContextItem> ContextStore::get(int64_t id) const {
    Stmt s(db_.handle(), std::string(kItemSelect) + " WHERE i.id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_item(s);
}

std::vector<ContextItem> ContextStore::list(std::optional<ContextKind> kind, const std::string& tag) const {
    Stmt s(db_.handle(), std::string(kItemSelect) +
                             " WHERE (?1 IS NULL OR i.kind = ?1) AND (?2 = '' OR EXISTS "
                             "(SELECT 1 FROM json_each(i.tags) WHERE json_each.value = ?2)) "
                             "ORDER BY i.created_at DESC, i.id DESC");
    if (kind)
        s.bind(1, to_string(*kind));
    else
        s.bind_null(1);
    s.bind(2, tag);
    std::vector<ContextItem> out;
    while (s.step()) out.push_back(read_item(s));
    return out;
}

bool ContextStore::remove(int64_t id) {
    detail::Tx tx(db_.handle());
    Stmt s(db_.handle(), "DELETE FROM context_items WHERE id = ?");
    s.bind(1, id);
    s.run();
    bool removed = sqlite3_changes(db_.handle()) > 0;
    tx.commit();
    return removed;
}

std::vector<ContextChunk> ContextStore::chunks(int64_t item_id) const {
    Stmt s(db_.handle(), "SELECT id, item_id, seq, byte_offset, text, embedding FROM context_chunks "
                         "WHERE item_id = ? ORDER BY seq");
    s.bind(1, item_id);
    std::vector<ContextChunk> out;
    while (s.step()) {
        ContextChunk c;
        c.id = s.int64(0);
        c.item_id = s.int64(1);
        c.seq = static_cast<int>(s.int64(2));
        c.offset = s.int64(3);
        c.text = s.text(4);
        c.embedding = s.floats(5);
        out.push_back(std::move(c));
    }
    return out;
}

int ContextStore::embed_missing() {
    if (!embed_) throw Error("embedding the context store needs an embedding function");
    std::vector<std::pair<int64_t, std::vector<float>>> todo;
    {
        Stmt s(db_.handle(), "SELECT id, text FROM context_chunks WHERE embedding IS NULL ORDER BY id");
        while (s.step()) todo.emplace_back(s.int64(0), embed_checked(s.text(1)));
    }
    detail::Tx tx(db_.handle());
    Stmt u(db_.handle(), "UPDATE context_chunks SET embedding = ? WHERE id = ?");
    for (const auto& [id, v] : todo) {
        u.reset();
        u.bind_blob(1, v.data(), v.size() * sizeof(float)).bind(2, id);
        u.run();
    }
    tx.commit();
    return static_cast<int>(todo.size());
}

std::vector<ContextHit> ContextStore::search_bm25(std::string_view query, const ContextSearchOptions& o,
                                                  int limit) const {
    std::string match = detail::fts_query(query, " OR ");
    if (match.empty() || limit <= 0) return {};
    Stmt s(db_.handle(),
           "SELECT ch.id, ch.item_id, i.kind, i.title, ch.text, "
           "snippet(context_chunks_fts, 1, ?1, ?2, '…', 16), bm25(context_chunks_fts, 2.0, 1.0), i.local_only "
           "FROM context_chunks_fts JOIN context_chunks ch ON ch.id = context_chunks_fts.rowid "
           "JOIN context_items i ON i.id = ch.item_id "
           "WHERE context_chunks_fts MATCH ?3 ORDER BY 7, ch.id LIMIT ?4");
    s.bind(1, o.highlight_open).bind(2, o.highlight_close).bind(3, match).bind(4, limit);
    std::vector<ContextHit> out;
    while (s.step()) {
        ContextHit h;
        h.chunk_id = s.int64(0);
        h.item_id = s.int64(1);
        h.kind = parse_context_kind(s.text(2)).value_or(ContextKind::note);
        h.title = s.text(3);
        h.chunk_text = s.text(4);
        h.snippet = s.text(5);
        h.bm25 = s.real(6);
        h.local_only = s.int64(7) != 0;
        h.bm25_rank = static_cast<int>(out.size()) + 1;
        h.score = -*h.bm25;
        out.push_back(std::move(h));
    }
    return out;
}

std::vector<ContextHit> ContextStore::search_vector(const std::vector<float>& q, int limit) const {
    // Brute force: personal stores hold thousands of chunks, not millions, and this keeps SQLite plain.
    Stmt s(db_.handle(),
           "SELECT ch.id, ch.item_id, i.kind, i.title, ch.text, ch.embedding, i.local_only "
           "FROM context_chunks ch JOIN context_items i ON i.id = ch.item_id WHERE ch.embedding IS NOT NULL");
    std::vector<ContextHit> out;
    while (s.step()) {
        std::vector<float> v = s.floats(5);
        if (v.size() != q.size()) continue;  // embedded by another model: not comparable
        ContextHit h;
        h.chunk_id = s.int64(0);
        h.item_id = s.int64(1);
        h.kind = parse_context_kind(s.text(2)).value_or(ContextKind::note);
        h.title = s.text(3);
        h.chunk_text = s.text(4);
        h.snippet = lead(h.chunk_text);
        h.cosine = cosine(q, v);
        h.score = *h.cosine;
        h.local_only = s.int64(6) != 0;
        out.push_back(std::move(h));
    }
    std::sort(out.begin(), out.end(), [](const ContextHit& a, const ContextHit& b) {
        return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
    });
    if (out.size() > static_cast<size_t>(std::max(limit, 0))) out.resize(static_cast<size_t>(std::max(limit, 0)));
    for (size_t k = 0; k < out.size(); ++k) out[k].vector_rank = static_cast<int>(k) + 1;
    return out;
}

std::vector<ContextHit> ContextStore::search(std::string_view query, const ContextSearchOptions& o) const {
    RankMode mode = o.mode;
    if (mode == RankMode::automatic) mode = embed_ ? RankMode::hybrid : RankMode::bm25;
    if (mode == RankMode::bm25) return search_bm25(query, o, o.limit);
    if (mode == RankMode::vector) return search_vector(embed_checked(query), o.limit);

    // Hybrid: reciprocal-rank fusion of the two candidate lists.
    int depth = std::max(o.candidates, o.limit);
    std::vector<ContextHit> fused = search_bm25(query, o, depth);
    for (auto& h : fused) h.score = 1.0 / (kRrfK + h.bm25_rank);
    for (auto& v : search_vector(embed_checked(query), depth)) {
        auto it = std::find_if(fused.begin(), fused.end(), [&](const ContextHit& h) { return h.chunk_id == v.chunk_id; });
        if (it == fused.end()) {
            v.score = 0;
            fused.push_back(std::move(v));
            it = fused.end() - 1;
        } else {
            it->cosine = v.cosine;
            it->vector_rank = v.vector_rank;
        }
        it->score += 1.0 / (kRrfK + it->vector_rank);
    }
    std::sort(fused.begin(), fused.end(), [](const ContextHit& a, const ContextHit& b) {
        return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
    });
    if (fused.size() > static_cast<size_t>(std::max(o.limit, 0))) fused.resize(static_cast<size_t>(std::max(o.limit, 0)));
    return fused;
}

}  // namespace bonsai::storage
