#pragma once
// UTF-8 decoding/encoding and the Unicode categories the pre-tokenizer regexes need.
// Our own small helpers (no ICU): categories come from the generated table in unicode_tables.cpp.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bonsai::tok {

// Category flags of one code point (several may be set: none currently overlap except by design).
enum CategoryFlag : uint8_t {
    kLetter = 1,  // \p{L}
    kNumber = 2,  // \p{N}
    kPunct = 4,   // \p{P}
    kSpace = 8,   // \s (Unicode White_Space)
};

// One row of the generated table: code points first..last (inclusive) all have `flags`.
struct CategoryRange {
    uint32_t first;
    uint32_t last;
    uint8_t flags;
};
extern const CategoryRange kCategoryRanges[];
extern const size_t kCategoryRangeCount;

// Flags of a code point (0 for anything unlisted: symbols, marks, controls, unassigned).
uint8_t category_flags(uint32_t cp);

// Marks a decoded unit that is not a valid UTF-8 character: it behaves like U+FFFD (flags 0) in the
// pre-tokenizer but its bytes are kept.
constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFFu;

// One decoded unit of a byte string: a character, or one maximal ill-formed subsequence.
struct CodeUnit {
    uint32_t cp;      // code point, or kInvalidCodePoint
    uint32_t offset;  // byte offset in the source
    uint32_t len;     // byte length (1..4)
    uint8_t flags;    // category_flags(cp), 0 for invalid units
};

// Result of examining the bytes at one position.
struct Utf8Step {
    enum Kind { Valid, Invalid, Incomplete } kind;
    uint32_t cp;   // Valid: the code point
    uint32_t len;  // Valid: sequence length; Invalid: length of the maximal ill-formed subsequence (>= 1)
};

// Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) at p[0..n), n >= 1. Incomplete = the bytes
// are a valid prefix of a character but end before it does.
Utf8Step utf8_step(const unsigned char* p, size_t n);

// Decodes all of `text`; an incomplete sequence at the end counts as one invalid unit.
std::vector<CodeUnit> decode_units(std::string_view text);

// Appends the UTF-8 encoding of cp (cp <= 0x10FFFF).
void append_utf8(std::string& out, uint32_t cp);

// Code point count of a UTF-8 lead byte's sequence (1 for continuation/invalid bytes), as llama.cpp's
// unicode_len_utf8 (used to split text into initial symbols).
size_t utf8_len_from_lead(unsigned char lead);

}  // namespace bonsai::tok
