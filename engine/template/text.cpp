// UTF-8 and Python-string helpers (see text.h).
#include "template/text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace bonsai::tmpl {

std::vector<char32_t> utf8_decode(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (extra <= 0 || i + static_cast<size_t>(extra) >= s.size()) {
            out.push_back(c);  // ASCII, or an invalid / truncated sequence: the byte itself
            ++i;
            continue;
        }
        char32_t cp = extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : extra == 3 ? (c & 0x07) : c;
        bool ok = true;
        for (int k = 1; k <= extra; ++k) {
            unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((cc & 0xC0) != 0x80) {
                ok = false;
                break;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (!ok) {
            out.push_back(c);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += static_cast<size_t>(extra) + 1;
    }
    return out;
}

void utf8_append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | ((cp >> 18) & 0x07)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string utf8_encode(const std::vector<char32_t>& cps, size_t begin, size_t end) {
    std::string out;
    out.reserve(end > begin ? end - begin : 0);
    for (size_t i = begin; i < end && i < cps.size(); ++i) utf8_append(out, cps[i]);
    return out;
}

bool is_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

size_t utf8_length(std::string_view s) {
    if (is_ascii(s)) return s.size();
    return utf8_decode(s).size();
}

bool py_isspace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

char32_t py_upper(char32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0x80) return c;
    if (c == 0xB5) return 0x39C;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    if (c >= 0x100 && c <= 0x17E) {
        bool odd = c % 2 == 1;
        if ((c <= 0x137 || (c >= 0x14A && c <= 0x177)) && odd) return c - 1;
        if (((c >= 0x139 && c <= 0x148) || c >= 0x179) && !odd) return c - 1;
        return c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
    if (c == 0x3C2) return 0x3A3;
    if (c == 0x3AC) return 0x386;
    if (c >= 0x3AD && c <= 0x3AF) return c - 37;
    if (c == 0x3CC) return 0x38C;
    if (c == 0x3CD || c == 0x3CE) return c - 63;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

char32_t py_lower(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0x80) return c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x178) return 0xFF;
    if (c == 0x130) return 'i';
    if (c >= 0x100 && c <= 0x17E) {
        bool odd = c % 2 == 1;
        if ((c <= 0x137 || (c >= 0x14A && c <= 0x177)) && !odd) return c + 1;
        if (((c >= 0x139 && c <= 0x148) || c >= 0x179) && odd) return c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

bool py_iscased_upper(char32_t c) { return py_lower(c) != c; }
bool py_iscased_lower(char32_t c) { return py_upper(c) != c || c == 0xDF; }

bool py_isalnum(char32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return py_iscased_upper(c) || py_iscased_lower(c) || (c >= 0x4E00 && c <= 0x9FFF);
}

namespace {
template <typename F>
std::string map_cps(std::string_view s, F f) {
    std::string out;
    out.reserve(s.size());
    if (is_ascii(s)) {
        for (char c : s) out.push_back(static_cast<char>(f(static_cast<char32_t>(static_cast<unsigned char>(c)))));
        return out;
    }
    for (char32_t c : utf8_decode(s)) utf8_append(out, f(c));
    return out;
}
}  // namespace

std::string str_upper(std::string_view s) { return map_cps(s, py_upper); }
std::string str_lower(std::string_view s) { return map_cps(s, py_lower); }

std::string str_capitalize(std::string_view s) {
    bool first = true;
    return map_cps(s, [&](char32_t c) {
        char32_t r = first ? py_upper(c) : py_lower(c);
        first = false;
        return r;
    });
}

std::string str_title(std::string_view s) {
    bool prev_cased = false;
    return map_cps(s, [&](char32_t c) {
        char32_t r = prev_cased ? py_lower(c) : py_upper(c);
        prev_cased = py_iscased_upper(c) || py_iscased_lower(c);
        return r;
    });
}

std::string str_strip(std::string_view s, const std::string* chars, bool left, bool right) {
    std::vector<char32_t> cps = utf8_decode(s);
    std::vector<char32_t> set;
    if (chars) set = utf8_decode(*chars);
    auto strip_me = [&](char32_t c) {
        if (!chars) return py_isspace(c);
        for (char32_t x : set)
            if (x == c) return true;
        return false;
    };
    size_t b = 0, e = cps.size();
    if (left)
        while (b < e && strip_me(cps[b])) ++b;
    if (right)
        while (e > b && strip_me(cps[e - 1])) --e;
    return utf8_encode(cps, b, e);
}

namespace {
// CPython's str.isprintable() for the characters likely to appear in chat data: control, format,
// separator (except space), surrogate, private-use and non-characters are not printable.
bool py_isprintable(char32_t c) {
    if (c < 0x20 || c == 0x7F) return false;
    if (c < 0x7F) return true;
    if (c >= 0x80 && c <= 0xA0) return false;
    if (c == 0xAD) return false;
    if (c == 0x34F) return true;
    if (c == 0x61C || c == 0x180E || c == 0x1680) return false;
    if (c >= 0x2000 && c <= 0x200F) return false;
    if (c >= 0x2028 && c <= 0x202F) return false;
    if (c >= 0x205F && c <= 0x206F) return false;
    if (c == 0x3000) return false;
    if (c >= 0xD800 && c <= 0xF8FF) return false;
    if (c == 0xFEFF) return false;
    if (c >= 0xFFF0 && c <= 0xFFFB) return false;
    if (c == 0xFFFE || c == 0xFFFF) return false;
    if (c >= 0xE0000 && c <= 0xE0FFF) return false;
    if (c >= 0xF0000) return false;
    return c <= 0x10FFFF;
}

void append_hex(std::string& out, const char* prefix, unsigned v, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, v);
    out += buf;
}
}  // namespace

std::string py_repr_string(std::string_view s) {
    bool has_single = s.find('\'') != std::string_view::npos;
    bool has_double = s.find('"') != std::string_view::npos;
    char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out;
    out.push_back(quote);
    for (char32_t c : utf8_decode(s)) {
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (py_isprintable(c)) {
            utf8_append(out, c);
        } else if (c < 0x100) {
            append_hex(out, "\\x", static_cast<unsigned>(c), 2);
        } else if (c < 0x10000) {
            append_hex(out, "\\u", static_cast<unsigned>(c), 4);
        } else {
            append_hex(out, "\\U", static_cast<unsigned>(c), 8);
        }
    }
    out.push_back(quote);
    return out;
}

std::string py_repr_float(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    // Shortest round-trip digits, then laid out like CPython's float_repr_style 'short'.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    bool neg = sci[0] == '-';
    if (neg) sci.erase(0, 1);
    size_t epos = sci.find('e');
    std::string mant = sci.substr(0, epos);
    int exp10 = std::atoi(sci.c_str() + epos + 1);
    std::string digits;
    for (char c : mant)
        if (c != '.') digits.push_back(c);
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    std::string out = neg ? "-" : "";
    if (exp10 >= -4 && exp10 < 16) {
        // fixed notation
        if (exp10 >= 0) {
            size_t int_len = static_cast<size_t>(exp10) + 1;
            if (digits.size() <= int_len) {
                out += digits + std::string(int_len - digits.size(), '0') + ".0";
            } else {
                out += digits.substr(0, int_len) + "." + digits.substr(int_len);
            }
        } else {
            out += "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    out += eb;
    return out;
}

std::string json_quote(std::string_view s, bool ensure_ascii) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (char32_t c : utf8_decode(s)) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20 || (ensure_ascii && c >= 0x80)) {
                    if (c >= 0x10000) {
                        char32_t v = c - 0x10000;
                        append_hex(out, "\\u", static_cast<unsigned>(0xD800 + (v >> 10)), 4);
                        append_hex(out, "\\u", static_cast<unsigned>(0xDC00 + (v & 0x3FF)), 4);
                    } else {
                        append_hex(out, "\\u", static_cast<unsigned>(c), 4);
                    }
                } else {
                    utf8_append(out, c);
                }
        }
    }
    out.push_back('"');
    return out;
}

}  // namespace bonsai::tmpl
