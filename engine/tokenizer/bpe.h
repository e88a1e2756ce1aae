#pragma once
// llama.cpp's BPE merge procedure (formats.md §5.6) over one byte-level-encoded pre-token.
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/token_map.h"

namespace bonsai::tok {

class BpeEncoder {
public:
    // vocab: text -> id. merges: the merge strings "A B" as stored -> rank (the first occurrence wins).
    // ignore_merges: a pre-token that is itself a vocab entry maps to it directly (LLAMA3 family).
    BpeEncoder(const TokenMap& vocab, const TokenMap& merges, bool ignore_merges)
        : vocab_(vocab), merges_(merges), ignore_merges_(ignore_merges) {}

    // Appends the ids of `word` (already byte-level encoded) to `out`.
    void encode(std::string_view word, std::vector<int32_t>& out);

private:
    struct Symbol {
        uint32_t start;  // byte offset in the word
        uint32_t len;    // 0 once merged into its left neighbour
        int32_t prev;
        int32_t next;
    };
    struct Bigram {
        int32_t rank;
        int32_t left;
        int32_t right;
        uint32_t size;  // left.len + right.len when queued; a mismatch later means it is stale
    };
    struct Worse {
        bool operator()(const Bigram& a, const Bigram& b) const {
            return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
        }
    };

    // Queues (left, right) if their texts form a known merge.
    void try_add(std::string_view word, int32_t left, int32_t right);
    // Emits one final symbol: its id, or per-character / per-byte ids when the vocab lacks it.
    void emit(std::string_view text, std::vector<int32_t>& out) const;

    const TokenMap& vocab_;
    const TokenMap& merges_;
    bool ignore_merges_;
    std::vector<Symbol> symbols_;
    std::priority_queue<Bigram, std::vector<Bigram>, Worse> queue_;
    std::string key_;  // reusable lookup key "A B"
};

}  // namespace bonsai::tok
