#pragma once
// GPT-2 byte-level encoding (formats.md §5.5): every byte maps to one printable code point, so byte-level
// BPE vocabularies store arbitrary bytes as text (space 0x20 -> U+0120 'Ġ', LF -> U+010A 'Ċ').
#include <cstdint>
#include <string>
#include <string_view>

namespace bonsai::tok {

// Appends the encoded form of each byte of `bytes` to `out`.
void byte_level_encode(std::string_view bytes, std::string& out);

// The byte a code point stands for, or -1 if the code point is not in the map.
int byte_level_byte(uint32_t cp);

// Appends the bytes of encoded `text`; characters outside the map are copied unchanged.
void byte_level_decode(std::string_view text, std::string& out);

}  // namespace bonsai::tok
