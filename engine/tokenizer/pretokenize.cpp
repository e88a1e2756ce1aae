// Pre-tokenizer scanners. Each "matcher" answers: how many units does the regex match when the regex
// engine tries position `pos` (0 = no match)? A regex split then walks the fragment left to right,
// emitting matches and, separately, any unmatched text between them — what HF's Split(Isolated) and
// llama.cpp's unicode_regex_split do. Several regexes apply in sequence, each to the previous pieces.
//
// Regexes (formats.md §5.3; \p{L} letter, \p{N} number, \s Unicode White_Space):
//   GPT2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   QWEN2:  (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
//           | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   LLAMA3: as QWEN2 with \p{N}{1,3}
//   DEFAULT: [\p{P}\$\+<=>\^~\|]+  then the GPT2 regex, then \p{N}+, then [0-9][0-9][0-9]
#include "tokenizer/pretokenize.h"

#include "tokenizer/unicode.h"

namespace bonsai::tok {
namespace {

using Units = std::vector<CodeUnit>;
using Matcher = size_t (*)(const Units& u, size_t pos, size_t end);

bool is_letter(const CodeUnit& c) { return (c.flags & kLetter) != 0; }
bool is_number(const CodeUnit& c) { return (c.flags & kNumber) != 0; }
bool is_space(const CodeUnit& c) { return (c.flags & kSpace) != 0; }
bool is_crlf(const CodeUnit& c) { return c.cp == '\r' || c.cp == '\n'; }
// [^\s\p{L}\p{N}]
bool is_other(const CodeUnit& c) { return (c.flags & (kSpace | kLetter | kNumber)) == 0; }
uint32_t ascii_lower(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }

template <typename Pred>
size_t run_length(const Units& u, size_t pos, size_t end, Pred pred) {
    size_t k = pos;
    while (k < end && pred(u[k])) ++k;
    return k - pos;
}

// 's|'t|'re|'ve|'m|'ll|'d ; case-insensitive (ASCII) for the QWEN2/LLAMA3 form.
size_t match_contraction(const Units& u, size_t pos, size_t end, bool any_case) {
    if (u[pos].cp != '\'' || pos + 1 >= end) return 0;
    const auto fold = [&](uint32_t cp) { return any_case ? ascii_lower(cp) : cp; };
    const uint32_t c1 = fold(u[pos + 1].cp);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= end) return 0;
    const uint32_t c2 = fold(u[pos + 2].cp);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

// Whitespace run handling shared by all forms: \s+(?!\S)|\s+ . A run of W whitespace units followed by a
// non-space keeps its last unit for the next piece (W >= 2); at the end of the fragment it is all taken.
size_t match_space_run(const Units& u, size_t pos, size_t end) {
    const size_t w = run_length(u, pos, end, is_space);
    if (w == 0) return 0;
    if (pos + w == end) return w;
    return w >= 2 ? w - 1 : 1;
}

size_t match_gpt2(const Units& u, size_t pos, size_t end) {
    if (size_t n = match_contraction(u, pos, end, false)) return n;
    const bool sp = u[pos].cp == ' ' && pos + 1 < end;
    // ' ?\p{L}+' / ' ?\p{N}+' / ' ?[^\s\p{L}\p{N}]+' : an optional U+0020 then a run of one class.
    if (sp && is_letter(u[pos + 1])) return 1 + run_length(u, pos + 1, end, is_letter);
    if (is_letter(u[pos])) return run_length(u, pos, end, is_letter);
    if (sp && is_number(u[pos + 1])) return 1 + run_length(u, pos + 1, end, is_number);
    if (is_number(u[pos])) return run_length(u, pos, end, is_number);
    if (sp && is_other(u[pos + 1])) return 1 + run_length(u, pos + 1, end, is_other);
    if (is_other(u[pos])) return run_length(u, pos, end, is_other);
    return match_space_run(u, pos, end);
}

size_t match_llama3_like(const Units& u, size_t pos, size_t end, size_t max_digits) {
    if (size_t n = match_contraction(u, pos, end, true)) return n;
    const CodeUnit& c = u[pos];
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!is_crlf(c) && !is_letter(c) && !is_number(c) && pos + 1 < end && is_letter(u[pos + 1])) {
        return 1 + run_length(u, pos + 1, end, is_letter);
    }
    if (is_letter(c)) return run_length(u, pos, end, is_letter);
    // \p{N}{1,max_digits}
    if (is_number(c)) {
        const size_t n = run_length(u, pos, end, is_number);
        return n < max_digits ? n : max_digits;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    {
        size_t p = pos;
        if (c.cp == ' ' && pos + 1 < end && is_other(u[pos + 1])) ++p;
        if (is_other(u[p])) {
            p += run_length(u, p, end, is_other);
            p += run_length(u, p, end, is_crlf);
            return p - pos;
        }
    }
    if (!is_space(c)) return 0;  // cannot happen: every unit is a letter, number, space or "other"
    // \s*[\r\n]+ : the whitespace run up to and including its last CR/LF.
    const size_t w = run_length(u, pos, end, is_space);
    for (size_t k = pos + w; k > pos; --k) {
        if (is_crlf(u[k - 1])) return k - pos;
    }
    return match_space_run(u, pos, end);
}

size_t match_qwen2(const Units& u, size_t pos, size_t end) { return match_llama3_like(u, pos, end, 1); }
size_t match_llama3(const Units& u, size_t pos, size_t end) { return match_llama3_like(u, pos, end, 3); }

// [\p{P}\$\+<=>\^~\|]+
size_t match_default_punct(const Units& u, size_t pos, size_t end) {
    return run_length(u, pos, end, [](const CodeUnit& c) {
        if (c.flags & kPunct) return true;
        switch (c.cp) {
            case '$': case '+': case '<': case '=': case '>': case '^': case '~': case '|': return true;
            default: return false;
        }
    });
}

// \p{N}+
size_t match_numbers(const Units& u, size_t pos, size_t end) { return run_length(u, pos, end, is_number); }

// [0-9][0-9][0-9]
size_t match_three_digits(const Units& u, size_t pos, size_t end) {
    if (pos + 3 > end) return 0;
    for (size_t k = pos; k < pos + 3; ++k) {
        if (u[k].cp < '0' || u[k].cp > '9') return 0;
    }
    return 3;
}

// Applies one regex to every piece (unit index ranges), producing the refined pieces.
std::vector<Span> apply(const Units& u, const std::vector<Span>& pieces, Matcher m) {
    std::vector<Span> out;
    out.reserve(pieces.size() * 2);
    for (const Span& piece : pieces) {
        size_t unmatched = piece.begin;
        size_t pos = piece.begin;
        while (pos < piece.end) {
            const size_t n = m(u, pos, piece.end);
            if (n == 0) {
                ++pos;
                continue;
            }
            if (unmatched < pos) out.push_back({static_cast<uint32_t>(unmatched), static_cast<uint32_t>(pos)});
            out.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + n)});
            pos += n;
            unmatched = pos;
        }
        if (unmatched < piece.end) out.push_back({static_cast<uint32_t>(unmatched), piece.end});
    }
    return out;
}

}  // namespace

std::vector<Span> pretokenize(Tokenizer::PreTokenizer kind, std::string_view text) {
    const Units units = decode_units(text);
    if (units.empty()) return {};
    std::vector<Span> pieces{{0, static_cast<uint32_t>(units.size())}};
    switch (kind) {
        case Tokenizer::PreTokenizer::Gpt2:
            pieces = apply(units, pieces, match_gpt2);
            break;
        case Tokenizer::PreTokenizer::Qwen2:
            pieces = apply(units, pieces, match_qwen2);
            break;
        case Tokenizer::PreTokenizer::Llama3:
            pieces = apply(units, pieces, match_llama3);
            break;
        case Tokenizer::PreTokenizer::Default:
            pieces = apply(units, pieces, match_default_punct);
            pieces = apply(units, pieces, match_gpt2);
            pieces = apply(units, pieces, match_numbers);
            pieces = apply(units, pieces, match_three_digits);
            break;
    }
    // Unit index ranges -> byte ranges.
    for (Span& s : pieces) {
        const uint32_t b = units[s.begin].offset;
        const uint32_t e = units[s.end - 1].offset + units[s.end - 1].len;
        s = {b, e};
    }
    return pieces;
}

}  // namespace bonsai::tok
