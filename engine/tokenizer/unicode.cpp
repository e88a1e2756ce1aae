// UTF-8 helpers and category lookup (see unicode.h).
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

#include "bonsai/tokenizer.h"

namespace bonsai::tok {

uint8_t category_flags(uint32_t cp) {
    // ASCII is by far the most common input: a small table avoids the binary search.
    static const auto ascii = [] {
        std::array<uint8_t, 128> t{};
        for (uint32_t c = 0; c < 128; ++c) {
            const CategoryRange* end = kCategoryRanges + kCategoryRangeCount;
            const CategoryRange* it = std::upper_bound(kCategoryRanges, end, c,
                                                       [](uint32_t v, const CategoryRange& r) { return v < r.first; });
            t[c] = (it != kCategoryRanges && (it - 1)->last >= c) ? (it - 1)->flags : 0;
        }
        return t;
    }();
    if (cp < 128) return ascii[cp];
    const CategoryRange* end = kCategoryRanges + kCategoryRangeCount;
    const CategoryRange* it =
        std::upper_bound(kCategoryRanges, end, cp, [](uint32_t v, const CategoryRange& r) { return v < r.first; });
    if (it == kCategoryRanges) return 0;
    --it;
    return cp <= it->last ? it->flags : 0;
}

Utf8Step utf8_step(const unsigned char* p, size_t n) {
    const unsigned char b0 = p[0];
    if (b0 < 0x80) return {Utf8Step::Valid, b0, 1};
    uint32_t need;  // continuation bytes
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    uint32_t cp;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        cp = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;  // no overlongs
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        cp = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;  // no overlongs
        if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
    } else {
        return {Utf8Step::Invalid, 0, 1};
    }
    for (uint32_t k = 1; k <= need; ++k) {
        if (k >= n) return {Utf8Step::Incomplete, 0, 0};
        const unsigned char b = p[k];
        const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) return {Utf8Step::Invalid, 0, k};
        cp = (cp << 6) | (b & 0x3F);
    }
    return {Utf8Step::Valid, cp, need + 1};
}

std::vector<CodeUnit> decode_units(std::string_view text) {
    std::vector<CodeUnit> units;
    units.reserve(text.size());
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    size_t i = 0;
    while (i < text.size()) {
        Utf8Step s = utf8_step(p + i, text.size() - i);
        if (s.kind == Utf8Step::Valid) {
            units.push_back({s.cp, static_cast<uint32_t>(i), s.len, category_flags(s.cp)});
            i += s.len;
        } else {
            // Incomplete at the very end: the remaining bytes are one ill-formed unit.
            const uint32_t len = s.kind == Utf8Step::Invalid ? s.len : static_cast<uint32_t>(text.size() - i);
            units.push_back({kInvalidCodePoint, static_cast<uint32_t>(i), len, 0});
            i += len;
        }
    }
    return units;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

size_t utf8_len_from_lead(unsigned char lead) {
    // Same table as llama.cpp's unicode_len_utf8: high nibble -> length.
    static const size_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[lead >> 4];
}

}  // namespace bonsai::tok

namespace bonsai {

std::string sanitize_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    size_t i = 0;
    while (i < bytes.size()) {
        const tok::Utf8Step s = tok::utf8_step(p + i, bytes.size() - i);
        if (s.kind == tok::Utf8Step::Valid) {
            out.append(bytes.substr(i, s.len));
            i += s.len;
        } else {
            out += "\xEF\xBF\xBD";
            i += s.kind == tok::Utf8Step::Invalid ? s.len : bytes.size() - i;
        }
    }
    return out;
}

}  // namespace bonsai
