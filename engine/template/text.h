#pragma once
// UTF-8 and Python-string helpers for the template interpreter. Python strings are sequences of code
// points, so length, indexing, slicing, strip() and case mapping work on code points here too.
// Invalid UTF-8 bytes (possible in template literals) are treated as one code point each (the byte
// value), so no input makes these functions fail.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bonsai::tmpl {

// Decodes UTF-8 into code points.
std::vector<char32_t> utf8_decode(std::string_view s);
// Appends the UTF-8 encoding of `cp` to `out`.
void utf8_append(std::string& out, char32_t cp);
std::string utf8_encode(const std::vector<char32_t>& cps, size_t begin, size_t end);
// Number of code points.
size_t utf8_length(std::string_view s);
// True when every byte is ASCII (lets hot paths skip decoding).
bool is_ascii(std::string_view s);

// Python str.isspace() for one code point.
bool py_isspace(char32_t c);
// Python-style simple case mapping (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic).
char32_t py_upper(char32_t c);
char32_t py_lower(char32_t c);
bool py_isalnum(char32_t c);
bool py_iscased_upper(char32_t c);
bool py_iscased_lower(char32_t c);

std::string str_upper(std::string_view s);
std::string str_lower(std::string_view s);
std::string str_capitalize(std::string_view s);  // Python str.capitalize()
std::string str_title(std::string_view s);       // Python str.title()

// Python str.strip/lstrip/rstrip. `chars` == nullptr strips whitespace; otherwise the code points in *chars.
std::string str_strip(std::string_view s, const std::string* chars, bool left, bool right);

// Python repr() of a str: picks ' or " like CPython and escapes control / non-printable characters.
std::string py_repr_string(std::string_view s);
// Python repr() of a float ("1.0", "0.1", "1e+16", "inf", "nan").
std::string py_repr_float(double d);
// JSON string literal as json.dumps writes it (ensure_ascii escapes non-ASCII as \uXXXX pairs).
std::string json_quote(std::string_view s, bool ensure_ascii);

}  // namespace bonsai::tmpl
