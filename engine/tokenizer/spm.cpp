// SentencePiece-style merges (see spm.h), following llama.cpp's llm_tokenizer_spm_session.
#include "tokenizer/spm.h"

#include <queue>

#include "tokenizer/unicode.h"

namespace bonsai::tok {
namespace {

struct Symbol {
    uint32_t start;
    uint32_t len;  // 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
};

struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    uint32_t size;
};

struct Worse {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

}  // namespace

void spm_encode(const SpmVocab& v, std::string_view text, std::vector<int32_t>& out) {
    std::vector<Symbol> symbols;
    size_t offset = 0;
    while (offset < text.size()) {
        size_t len = utf8_len_from_lead(static_cast<unsigned char>(text[offset]));
        if (len > text.size() - offset) len = text.size() - offset;
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back(Symbol{static_cast<uint32_t>(offset), static_cast<uint32_t>(len), index - 1,
                                 offset + len == text.size() ? -1 : index + 1});
        offset += len;
    }
    std::priority_queue<Bigram, std::vector<Bigram>, Worse> queue;
    const auto try_add = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[static_cast<size_t>(left)];
        const Symbol& r = symbols[static_cast<size_t>(right)];
        const int32_t id = find_or(v.vocab, text.substr(l.start, l.len + r.len));
        if (id < 0) return;
        queue.push(Bigram{v.scores[static_cast<size_t>(id)], left, right, l.len + r.len});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
    while (!queue.empty()) {
        const Bigram bg = queue.top();
        queue.pop();
        Symbol& l = symbols[static_cast<size_t>(bg.left)];
        Symbol& r = symbols[static_cast<size_t>(bg.right)];
        if (l.len == 0 || r.len == 0 || l.len + r.len != bg.size) continue;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = bg.left;
        try_add(l.prev, bg.left);
        try_add(bg.left, l.next);
    }
    if (symbols.empty()) return;
    for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
        const Symbol& s = symbols[static_cast<size_t>(i)];
        if (s.len == 0) continue;
        const std::string_view piece = text.substr(s.start, s.len);
        // Merged symbols are always vocab entries; only single characters can be missing.
        const int32_t id = find_or(v.vocab, piece);
        if (id >= 0) {
            out.push_back(id);
            continue;
        }
        for (unsigned char b : piece) {
            const int32_t bid = v.byte_ids[b];
            if (bid >= 0) {
                out.push_back(bid);
            } else if (v.unk_id >= 0) {
                out.push_back(v.unk_id);
            }
        }
    }
}

}  // namespace bonsai::tok
