// BPE merges over one pre-token (see bpe.h). Follows llama.cpp's llm_tokenizer_bpe_session: symbols
// start as single UTF-8 characters; the lowest-rank adjacent pair merges first, ties go to the leftmost.
#include "tokenizer/bpe.h"

#include "tokenizer/unicode.h"

namespace bonsai::tok {

void BpeEncoder::try_add(std::string_view word, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[static_cast<size_t>(left)];
    const Symbol& r = symbols_[static_cast<size_t>(right)];
    const std::string_view a = word.substr(l.start, l.len);
    const std::string_view b = word.substr(r.start, r.len);
    // A merge "A B" is split at its first space after index 0, so no rule has an A with a space there.
    if (a.find(' ', 1) != std::string_view::npos) return;
    key_.assign(a);
    key_ += ' ';
    key_.append(b);
    const int32_t rank = find_or(merges_, key_);
    if (rank < 0) return;
    queue_.push(Bigram{rank, left, right, l.len + r.len});
}

void BpeEncoder::emit(std::string_view text, std::vector<int32_t>& out) const {
    const int32_t id = find_or(vocab_, text);
    if (id >= 0) {
        out.push_back(id);
        return;
    }
    // Not in the vocab (a merge whose result has no token): fall back to each character's token, then
    // to single-byte tokens as llama.cpp does; bytes with no token are skipped.
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    size_t i = 0;
    while (i < text.size()) {
        const Utf8Step s = utf8_step(p + i, text.size() - i);
        const size_t len = s.kind == Utf8Step::Valid ? s.len : (s.kind == Utf8Step::Invalid ? s.len : text.size() - i);
        const int32_t cid = find_or(vocab_, text.substr(i, len));
        if (cid >= 0) {
            out.push_back(cid);
        } else {
            for (size_t k = i; k < i + len; ++k) {
                const int32_t bid = find_or(vocab_, text.substr(k, 1));
                if (bid >= 0) out.push_back(bid);
            }
        }
        i += len;
    }
}

void BpeEncoder::encode(std::string_view word, std::vector<int32_t>& out) {
    if (word.empty()) return;
    if (ignore_merges_) {
        const int32_t id = find_or(vocab_, word);
        if (id >= 0) {
            out.push_back(id);
            return;
        }
    }
    symbols_.clear();
    queue_ = {};
    size_t offset = 0;
    while (offset < word.size()) {
        size_t len = utf8_len_from_lead(static_cast<unsigned char>(word[offset]));
        if (len > word.size() - offset) len = word.size() - offset;
        const auto index = static_cast<int32_t>(symbols_.size());
        symbols_.push_back(Symbol{static_cast<uint32_t>(offset), static_cast<uint32_t>(len), index - 1,
                                  offset + len == word.size() ? -1 : index + 1});
        offset += len;
    }
    for (size_t i = 1; i < symbols_.size(); ++i) {
        try_add(word, static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
    }
    while (!queue_.empty()) {
        const Bigram bg = queue_.top();
        queue_.pop();
        Symbol& l = symbols_[static_cast<size_t>(bg.left)];
        Symbol& r = symbols_[static_cast<size_t>(bg.right)];
        // Stale: one side was merged away, or grew since the pair was queued.
        if (l.len == 0 || r.len == 0 || l.len + r.len != bg.size) continue;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) symbols_[static_cast<size_t>(r.next)].prev = bg.left;
        try_add(word, l.prev, bg.left);
        try_add(word, bg.left, l.next);
    }
    for (int32_t i = 0; i >= 0; i = symbols_[static_cast<size_t>(i)].next) {
        const Symbol& s = symbols_[static_cast<size_t>(i)];
        if (s.len > 0) emit(word.substr(s.start, s.len), out);
    }
}

}  // namespace bonsai::tok
