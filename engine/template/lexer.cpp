// Template lexer (see lexer.h). The rules mirror jinja2 3.1's regular-expression lexer:
//  - text runs up to the first "{{", "{%" or "{#";
//  - "{%-" / "{{-" / "{#-" strip all whitespace before the tag; "-%}" / "-}}" / "-#}" all after it;
//  - lstrip_blocks: spaces/tabs between a line start and a "{%" or "{#" tag (not "{{") are dropped,
//    unless the tag is written "{%+";
//  - trim_blocks: one newline right after "%}" or "#}" is dropped (not after "+%}");
//  - inside a tag, "}}" / "%}" only end it when brackets are balanced.
#include "template/lexer.h"

#include <cstring>

#include "bonsai/chat_template.h"
#include "template/text.h"

namespace bonsai::tmpl {

[[noreturn]] void syntax_error(const std::string& msg, int line, int col) {
    throw TemplateError("template syntax error at line " + std::to_string(line) + ", column " + std::to_string(col) +
                            ": " + msg,
                        line, col, false);
}

namespace {

// Python's \s for one code point starting at s[i]; returns its byte length or 0.
size_t space_at(std::string_view s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return py_isspace(c) ? 1 : 0;
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (i + len > s.size()) return 0;
    std::vector<char32_t> cp = utf8_decode(s.substr(i, len));
    return (cp.size() == 1 && py_isspace(cp[0])) ? len : 0;
}

size_t skip_spaces(std::string_view s, size_t i) {
    while (i < s.size()) {
        size_t n = space_at(s, i);
        if (!n) break;
        i += n;
    }
    return i;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Lexer {
public:
    explicit Lexer(std::string src) : src_(std::move(src)) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i)
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<Token> run() {
        std::string_view s = src_;
        size_t pos = 0;
        bool line_starting = true;
        while (pos < s.size()) {
            // Find the next tag opener.
            size_t tag = pos;
            char kind = 0;
            while (true) {
                tag = s.find('{', tag);
                if (tag == std::string_view::npos || tag + 1 >= s.size()) {
                    tag = std::string_view::npos;
                    break;
                }
                char n = s[tag + 1];
                if (n == '{' || n == '%' || n == '#') {
                    kind = n;
                    break;
                }
                ++tag;
            }
            if (tag == std::string_view::npos) {
                emit_data(std::string(s.substr(pos)), pos);
                break;
            }
            std::string text(s.substr(pos, tag - pos));
            size_t after = tag + 2;
            char sign = (after < s.size() && (s[after] == '-' || s[after] == '+')) ? s[after] : 0;
            bool raw = kind == '%' && is_raw_begin(s, after + (sign ? 1 : 0));
            if (sign == '-') {
                text = str_strip(text, nullptr, false, true);
            } else if (sign != '+' && kind != '{') {
                size_t l_pos = text.rfind('\n');
                l_pos = (l_pos == std::string::npos) ? 0 : l_pos + 1;
                if (l_pos > 0 || line_starting) {
                    std::string_view tail = std::string_view(text).substr(l_pos);
                    if (!tail.empty() && skip_spaces(tail, 0) == tail.size()) text.resize(l_pos);
                }
            }
            emit_data(text, pos);
            pos = after + (sign ? 1 : 0);
            if (raw) {
                pos = lex_raw(s, tag, pos, line_starting);
            } else if (kind == '#') {
                pos = lex_comment(s, tag, pos, line_starting);
            } else {
                pos = lex_tag(s, tag, pos, kind == '{', line_starting);
            }
        }
        push(TokType::End, "", s.size());
        return std::move(tokens_);
    }

private:
    std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Token> tokens_;

    void where(size_t offset, int& line, int& col) const {
        size_t lo = 0, hi = line_starts_.size();
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (line_starts_[mid] <= offset) lo = mid;
            else hi = mid;
        }
        line = static_cast<int>(lo + 1);
        col = static_cast<int>(offset - line_starts_[lo] + 1);
    }

    [[noreturn]] void error(const std::string& msg, size_t offset) const {
        int line, col;
        where(offset, line, col);
        syntax_error(msg, line, col);
    }

    Token& push(TokType t, std::string text, size_t offset) {
        Token tok;
        tok.type = t;
        tok.text = std::move(text);
        where(offset, tok.line, tok.col);
        tokens_.push_back(std::move(tok));
        return tokens_.back();
    }

    void emit_data(std::string text, size_t offset) {
        if (!text.empty()) push(TokType::Data, std::move(text), offset);
    }

    // "{%" [-+] \s* "raw" \s* "%}" (with optional "-" before "%}") starting after the opener.
    static bool is_raw_begin(std::string_view s, size_t i) {
        i = skip_spaces(s, i);
        if (s.substr(i, 3) != "raw") return false;
        i = skip_spaces(s, i + 3);
        return s.substr(i, 2) == "%}" || s.substr(i, 3) == "-%}";
    }

    size_t lex_raw(std::string_view s, size_t tag, size_t pos, bool& line_starting) {
        pos = skip_spaces(s, pos) + 3;
        pos = skip_spaces(s, pos);
        if (s[pos] == '-') {
            pos = skip_spaces(s, pos + 3);
        } else {
            pos += 2;  // jinja2 applies no trim_blocks to the raw opener
        }
        const bool raw_line_starting = s[pos - 1] == '\n';
        // Find "{%" [-+] \s* "endraw" \s* ("+%}" | "-%}" \s* | "%}" "\n"?)
        size_t search = pos;
        while (true) {
            size_t open = s.find("{%", search);
            if (open == std::string_view::npos) error("missing end of raw directive", tag);
            size_t i = open + 2;
            char sign = (i < s.size() && (s[i] == '-' || s[i] == '+')) ? s[i] : 0;
            if (sign) ++i;
            i = skip_spaces(s, i);
            if (s.substr(i, 6) != "endraw") {
                search = open + 2;
                continue;
            }
            i = skip_spaces(s, i + 6);
            size_t end;
            if (s.substr(i, 3) == "+%}") {
                end = i + 3;
            } else if (s.substr(i, 3) == "-%}") {
                end = skip_spaces(s, i + 3);
            } else if (s.substr(i, 2) == "%}") {
                end = i + 2;
                if (end < s.size() && s[end] == '\n') ++end;
            } else {
                search = open + 2;
                continue;
            }
            std::string text(s.substr(pos, open - pos));
            if (sign == '-') {
                text = str_strip(text, nullptr, false, true);
            } else if (sign != '+') {
                size_t l_pos = text.rfind('\n');
                l_pos = (l_pos == std::string::npos) ? 0 : l_pos + 1;
                std::string_view tail = std::string_view(text).substr(l_pos);
                if ((l_pos > 0 || raw_line_starting) && !tail.empty() && skip_spaces(tail, 0) == tail.size())
                    text.resize(l_pos);
            }
            emit_data(text, pos);
            line_starting = end > 0 && s[end - 1] == '\n';
            return end;
        }
    }

    size_t lex_comment(std::string_view s, size_t tag, size_t pos, bool& line_starting) {
        size_t close = s.find("#}", pos);
        if (close == std::string_view::npos) error("missing end of comment tag", tag);
        size_t end = close + 2;
        if (close > pos && s[close - 1] == '-') {
            end = skip_spaces(s, end);
        } else if (!(close > pos && s[close - 1] == '+')) {
            if (end < s.size() && s[end] == '\n') ++end;
        }
        line_starting = s[end - 1] == '\n';
        return end;
    }

    size_t lex_tag(std::string_view s, size_t tag, size_t pos, bool variable, bool& line_starting) {
        push(variable ? TokType::VarBegin : TokType::BlockBegin, variable ? "{{" : "{%", tag);
        std::vector<char> balance;
        const char close = variable ? '}' : '%';
        while (true) {
            if (pos >= s.size()) error(variable ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'", tag);
            // End of tag (only when brackets are balanced).
            if (balance.empty()) {
                if (s[pos] == '-' && s.substr(pos + 1, 2) == std::string{close, '}'}) {
                    push(variable ? TokType::VarEnd : TokType::BlockEnd, "", pos);
                    size_t end = skip_spaces(s, pos + 3);
                    line_starting = s[end - 1] == '\n';
                    return end;
                }
                if (!variable && s[pos] == '+' && s.substr(pos + 1, 2) == "%}") {
                    push(TokType::BlockEnd, "", pos);
                    line_starting = false;
                    return pos + 3;
                }
                if (s[pos] == close && pos + 1 < s.size() && s[pos + 1] == '}') {
                    push(variable ? TokType::VarEnd : TokType::BlockEnd, "", pos);
                    size_t end = pos + 2;
                    if (!variable && end < s.size() && s[end] == '\n') ++end;
                    line_starting = s[end - 1] == '\n';
                    return end;
                }
            }
            size_t ws = skip_spaces(s, pos);
            if (ws != pos) {
                pos = ws;
                continue;
            }
            char c = s[pos];
            if (is_digit(c)) {
                pos = lex_number(s, pos);
            } else if (is_name_start(c)) {
                size_t b = pos;
                while (pos < s.size() && is_name_char(s[pos])) ++pos;
                push(TokType::Name, std::string(s.substr(b, pos - b)), b);
            } else if (c == '\'' || c == '"') {
                pos = lex_string(s, pos);
            } else {
                static const char* const two[] = {"//", "**", "==", "!=", ">=", "<="};
                std::string op;
                for (const char* t : two)
                    if (s.substr(pos, 2) == t) op = t;
                if (op.empty()) {
                    if (std::strchr("+-/*%~[](){}><=.:|,;", c) == nullptr || c == 0)
                        error(std::string("unexpected char '") + (static_cast<unsigned char>(c) < 0x80 && c >= 0x20 ? std::string(1, c) : "\\x" + std::to_string(static_cast<unsigned char>(c))) + "'", pos);
                    op = std::string(1, c);
                }
                if (op == "(" || op == "[" || op == "{") {
                    if (balance.size() > 256) error("brackets nested too deeply", pos);
                    balance.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
                } else if (op == ")" || op == "]" || op == "}") {
                    if (balance.empty()) error("unexpected '" + op + "'", pos);
                    if (balance.back() != op[0]) error("unexpected '" + op + "', expected '" + std::string(1, balance.back()) + "'", pos);
                    balance.pop_back();
                }
                push(TokType::Op, op, pos);
                pos += op.size();
            }
        }
    }

    size_t lex_number(std::string_view s, size_t pos) {
        size_t b = pos;
        auto digits = [&](size_t i) {
            // \d+ with single underscores between digits
            if (i >= s.size() || !is_digit(s[i])) return std::string_view::npos;
            while (i < s.size() && (is_digit(s[i]) || (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])))) ++i;
            return i;
        };
        size_t i = digits(pos);
        bool is_float = false;
        if (i < s.size() && s[i] == '.' && i + 1 < s.size() && is_digit(s[i + 1])) {
            i = digits(i + 1);
            is_float = true;
        }
        if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
            size_t k = digits(j);
            if (k != std::string_view::npos) {
                i = k;
                is_float = true;
            }
        }
        std::string text;
        for (size_t k = b; k < i; ++k)
            if (s[k] != '_') text.push_back(s[k]);
        if (is_float) {
            Token& t = push(TokType::Float, text, b);
            t.float_value = std::strtod(text.c_str(), nullptr);
        } else {
            Token& t = push(TokType::Integer, text, b);
            std::int64_t v = 0;
            for (char c : text) {
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v))
                    error("integer literal too large", b);
            }
            t.int_value = v;
        }
        return i;
    }

    size_t lex_string(std::string_view s, size_t pos) {
        char q = s[pos];
        size_t i = pos + 1;
        std::string out;
        while (true) {
            if (i >= s.size()) error("unterminated string literal", pos);
            char c = s[i];
            if (c == q) break;
            if (c != '\\') {
                out.push_back(c);
                ++i;
                continue;
            }
            if (i + 1 >= s.size()) error("unterminated string literal", pos);
            char e = s[i + 1];
            i += 2;
            switch (e) {
                case '\n': break;
                case '\\': out.push_back('\\'); break;
                case '\'': out.push_back('\''); break;
                case '"': out.push_back('"'); break;
                case 'a': out.push_back('\a'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'v': out.push_back('\v'); break;
                case 'x':
                case 'u':
                case 'U': {
                    size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    char32_t cp = 0;
                    for (size_t k = 0; k < n; ++k) {
                        int h = i + k < s.size() ? hex_value(s[i + k]) : -1;
                        if (h < 0) error(std::string("truncated \\") + e + " escape in string literal", i - 2);
                        cp = cp * 16 + static_cast<char32_t>(h);
                    }
                    if (cp > 0x10FFFF) error("illegal Unicode character in string literal", i - 2);
                    i += n;
                    utf8_append(out, cp);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        char32_t cp = static_cast<char32_t>(e - '0');
                        for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k, ++i)
                            cp = cp * 8 + static_cast<char32_t>(s[i] - '0');
                        utf8_append(out, cp);
                    } else {
                        out.push_back('\\');
                        out.push_back(e);
                    }
            }
        }
        push(TokType::String, out, pos);
        return i + 1;
    }
};

// Newlines normalised to "\n" and one trailing newline removed, as jinja2 does before lexing.
std::string normalize(std::string_view source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out.push_back(source[i]);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
    Lexer lexer(normalize(source));
    return lexer.run();
}

}  // namespace bonsai::tmpl
