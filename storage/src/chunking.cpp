// Paragraph/sentence-aware chunking with overlap (see chunking.h).
#include "bonsai/storage/chunking.h"

#include <algorithm>
#include <cctype>

namespace bonsai::storage {

namespace {

struct Piece {
    size_t b, e;              // [b, e) in the text
    bool para_end = false;    // the piece ends a paragraph (a preferred chunk end)
};

bool space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Cut positions strictly inside (b, e) at which a new piece starts.
using Cutter = std::vector<size_t> (*)(std::string_view t, size_t b, size_t e, size_t target);

// After a run of whitespace holding at least two newlines (a blank line).
std::vector<size_t> paragraph_cuts(std::string_view t, size_t b, size_t e, size_t) {
    std::vector<size_t> cuts;
    for (size_t p = b; p < e; ++p) {
        if (t[p] != '\n') continue;
        size_t q = p, newlines = 0;
        while (q < e && space(t[q])) newlines += t[q++] == '\n';
        if (newlines >= 2 && q < e && q > b) cuts.push_back(q);
        p = q;
    }
    return cuts;
}

// After . ! ? (and closing quotes or brackets) followed by whitespace, or after a line break.
std::vector<size_t> sentence_cuts(std::string_view t, size_t b, size_t e, size_t) {
    std::vector<size_t> cuts;
    for (size_t p = b; p < e; ++p) {
        size_t q = p + 1;
        if (t[p] == '.' || t[p] == '!' || t[p] == '?') {
            while (q < e && (t[q] == '"' || t[q] == '\'' || t[q] == ')' || t[q] == ']')) ++q;
            if (q >= e || !space(t[q])) continue;
        } else if (t[p] != '\n') {
            continue;
        }
        while (q < e && space(t[q])) ++q;
        if (q < e) cuts.push_back(q);
        p = q - 1;
    }
    return cuts;
}

// Where a word starts after whitespace.
std::vector<size_t> word_cuts(std::string_view t, size_t b, size_t e, size_t) {
    std::vector<size_t> cuts;
    for (size_t p = b + 1; p < e; ++p)
        if (space(t[p - 1]) && !space(t[p])) cuts.push_back(p);
    return cuts;
}

// Every `target` bytes, moved back so no UTF-8 sequence is split (continuation bytes are 10xxxxxx).
std::vector<size_t> hard_cuts(std::string_view t, size_t b, size_t e, size_t target) {
    std::vector<size_t> cuts;
    size_t p = b;
    while (e - p > target) {
        size_t c = p + target;
        while (c > p + 1 && (static_cast<unsigned char>(t[c]) & 0xC0) == 0x80) --c;
        cuts.push_back(c);
        p = c;
    }
    return cuts;
}

// Splits pieces at the cutter's positions: every piece when `always`, else only those longer than
// `target`. The last sub-piece inherits the paragraph-end mark.
std::vector<Piece> refine(std::string_view t, const std::vector<Piece>& in, Cutter cut, size_t target, bool always) {
    std::vector<Piece> out;
    for (const Piece& p : in) {
        if (!always && p.e - p.b <= target) {
            out.push_back(p);
            continue;
        }
        size_t start = p.b;
        for (size_t c : cut(t, p.b, p.e, target)) {
            out.push_back({start, c, false});
            start = c;
        }
        out.push_back({start, p.e, p.para_end});
    }
    return out;
}

}  // namespace

std::vector<TextChunk> split_into_chunks(std::string_view text, const ChunkOptions& options) {
    const size_t target = std::max<size_t>(options.target, 16);
    const size_t overlap = std::min(options.overlap, target / 2);
    std::vector<TextChunk> out;
    if (text.empty()) return out;

    // Paragraphs, each cut into sentences (the overlap is made of whole sentences); words and raw bytes
    // only where a sentence alone is too long.
    std::vector<Piece> pieces;
    {
        size_t start = 0;
        for (size_t c : paragraph_cuts(text, 0, text.size(), target)) {
            pieces.push_back({start, c, true});
            start = c;
        }
        pieces.push_back({start, text.size(), true});
    }
    pieces = refine(text, pieces, sentence_cuts, target, true);
    pieces = refine(text, pieces, word_cuts, target, false);
    pieces = refine(text, pieces, hard_cuts, target, false);

    // Greedy packing: [i, j) is the current chunk; the next one starts at the earliest piece k whose tail
    // of this chunk fits in `overlap` and still leaves room for piece j.
    size_t i = 0;
    const size_t n = pieces.size();
    while (i < n) {
        size_t j = i + 1;
        while (j < n && pieces[j].e - pieces[i].b <= target) ++j;
        // Prefer ending at a paragraph break when one lies in the second half of the chunk.
        if (j < n && !pieces[j - 1].para_end) {
            for (size_t q = j - 1; q > i; --q) {
                if (pieces[q - 1].e - pieces[i].b < target / 2) break;
                if (pieces[q - 1].para_end) {
                    j = q;
                    break;
                }
            }
        }
        size_t b = pieces[i].b, e = pieces[j - 1].e;
        while (b < e && space(text[b])) ++b;
        while (e > b && space(text[e - 1])) --e;
        if (e > b) out.push_back({b, std::string(text.substr(b, e - b))});
        if (j >= n) break;
        size_t k = i + 1;
        while (k < j && (pieces[j - 1].e - pieces[k].b > overlap || pieces[j].e - pieces[k].b > target)) ++k;
        i = k;
    }
    return out;
}

}  // namespace bonsai::storage
