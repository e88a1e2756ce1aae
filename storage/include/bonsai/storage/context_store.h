#pragma once
// The personal context store: notes, facts and documents the user keeps for the local model.
// Every item is split into chunks (chunking.h); chunks are indexed with FTS5 for BM25 retrieval and may
// carry a float32 embedding vector for cosine ranking. Hybrid ranking fuses the BM25 and cosine orders
// with reciprocal-rank fusion: score = sum over both lists of 1 / (kRrfK + rank), rank counted from 1.
//
// Privacy: every item is local_only (the schema enforces local_only = 1). The privacy guard in app/core
// feeds retrieval results only to the local provider and checks this flag on every hit.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/storage/database.h"

namespace bonsai::storage {

enum class ContextKind { note, fact, document };
std::string_view to_string(ContextKind k);
std::optional<ContextKind> parse_context_kind(std::string_view s);  // "note" | "fact" | "document"

// Maps a text to an embedding vector. Must return the same dimension for every call; non-empty and finite.
using EmbedFn = std::function<std::vector<float>(std::string_view)>;

struct NewContextItem {
    ContextKind kind = ContextKind::note;
    std::string title;
    std::string text;
    std::string source;               // where it came from: a file path, a URL, "" for typed notes
    std::vector<std::string> tags;    // free words; stored trimmed, without empties or duplicates
};

struct ContextItem {
    int64_t id = 0;
    ContextKind kind = ContextKind::note;
    std::string title;
    std::string text;
    std::string source;
    std::vector<std::string> tags;
    int64_t created_at = 0;
    int64_t updated_at = 0;
    bool local_only = true;           // always true: never sent to a cloud provider
    int64_t chunk_count = 0;
};

struct ContextChunk {
    int64_t id = 0;
    int64_t item_id = 0;
    int seq = 0;                      // 0-based position in the item
    int64_t offset = 0;               // byte offset of the chunk in the item's text
    std::string text;
    std::vector<float> embedding;     // empty when none was computed
};

enum class RankMode {
    automatic,  // hybrid when the store has an embedding function, else bm25
    bm25,       // FTS5 BM25 only
    vector,     // cosine similarity only (needs an embedding function)
    hybrid,     // reciprocal-rank fusion of both (needs an embedding function)
};

struct ContextSearchOptions {
    int limit = 8;
    RankMode mode = RankMode::automatic;
    std::string highlight_open = "[";
    std::string highlight_close = "]";
    int candidates = 50;              // how deep each list goes before fusion
};

struct ContextHit {
    int64_t item_id = 0;
    int64_t chunk_id = 0;
    ContextKind kind = ContextKind::note;
    std::string title;
    std::string chunk_text;
    std::string snippet;              // FTS5 snippet with highlights; the chunk's start for vector-only hits
    std::optional<double> bm25;       // FTS5 bm25() (lower is better) when the chunk matched the words
    std::optional<double> cosine;     // cosine similarity to the query when both have embeddings
    int bm25_rank = 0;                // 1-based position in the BM25 list, 0 when absent
    int vector_rank = 0;              // 1-based position in the cosine list, 0 when absent
    double score = 0;                 // higher is better: -bm25, cosine, or the RRF sum, by mode
    bool local_only = true;
};

class ContextStore {
public:
    static constexpr double kRrfK = 60;

    // `embed` is optional: without it, chunks get no vectors and only BM25 search works.
    explicit ContextStore(Database& db, EmbedFn embed = {});

    // Adds an item, chunks it and (with an embedding function) embeds every chunk, in one transaction.
    // Throws Error for an empty title or text.
    int64_t add(const NewContextItem& item);
    std::optional<ContextItem> get(int64_t id) const;
    // Newest first, optionally only one kind and/or items carrying `tag`.
    std::vector<ContextItem> list(std::optional<ContextKind> kind = std::nullopt,
                                  const std::string& tag = {}) const;
    bool remove(int64_t id);  // false when there was no such item
    std::vector<ContextChunk> chunks(int64_t item_id) const;
    // Embeds every chunk that has no vector yet (after an embedding model became available). Returns count.
    int embed_missing();
    // Retrieval. The query is plain words; any of them may match (BM25 favours chunks with more and
    // rarer ones). Throws Error for vector/hybrid mode without an embedding function.
    std::vector<ContextHit> search(std::string_view query, const ContextSearchOptions& o = {}) const;

private:
    std::vector<ContextHit> search_bm25(std::string_view query, const ContextSearchOptions& o, int limit) const;
    std::vector<ContextHit> search_vector(const std::vector<float>& q, int limit) const;
    std::vector<float> embed_checked(std::string_view text) const;

    Database& db_;
    EmbedFn embed_;
};

}  // namespace bonsai::storage
