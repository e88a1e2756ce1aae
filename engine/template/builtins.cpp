// Tests, object methods, global functions and Python conversion helpers (see builtins.h).
// Filters live in filters.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "template/builtins.h"
#include "template/text.h"

namespace bonsai::tmpl {

// ---- argument binding -----------------------------------------------------------------------

BoundArgs::BoundArgs(const CallArgs& args, std::initializer_list<const char*> names, const std::string& fname)
    : values_(names.size()), given_(names.size(), false) {
    std::vector<const char*> n(names);
    if (args.positional.size() > n.size())
        fail(fname + "() takes at most " + std::to_string(n.size()) + " argument(s) (" +
             std::to_string(args.positional.size()) + " given)");
    for (size_t i = 0; i < args.positional.size(); ++i) {
        values_[i] = args.positional[i];
        given_[i] = true;
    }
    for (const auto& [k, v] : args.keyword) {
        size_t idx = n.size();
        for (size_t i = 0; i < n.size(); ++i)
            if (k == n[i]) idx = i;
        if (idx == n.size()) fail(fname + "() got an unexpected keyword argument '" + k + "'");
        if (given_[idx]) fail(fname + "() got multiple values for argument '" + k + "'");
        values_[idx] = v;
        given_[idx] = true;
    }
}

// ---- Python conversions -------------------------------------------------------------------------

namespace {
std::string strip_ws(const std::string& s) { return str_strip(s, nullptr, true, true); }

// Digits with single underscores between them (Python numeric literal rules).
bool valid_underscores(const std::string& s) {
    if (s.empty() || s.front() == '_' || s.back() == '_') return false;
    return s.find("__") == std::string::npos;
}
}  // namespace

std::optional<std::int64_t> to_int(const Value& v, int base) {
    if (v.is_integral()) return v.as_int();
    if (v.is_float()) {
        double d = v.as_double();
        if (std::isnan(d)) return std::nullopt;
        if (std::isinf(d) || std::fabs(d) >= 9.2e18) fail("cannot convert float to a 64-bit integer");
        return static_cast<std::int64_t>(d);
    }
    if (!v.is_string()) return std::nullopt;
    std::string s = strip_ws(v.str());
    bool neg = false;
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    std::string body = s.substr(i);
    if (base == 0 || base == 16 || base == 8 || base == 2) {
        if (body.size() > 2 && body[0] == '0') {
            char p = static_cast<char>(std::tolower(static_cast<unsigned char>(body[1])));
            int b = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
            if (b && (base == 0 || base == b)) {
                base = b;
                body = body.substr(2);
                if (!body.empty() && body[0] == '_') body = body.substr(1);
            }
        }
        if (base == 0) base = 10;
    }
    if (base < 2 || base > 36 || !valid_underscores(body)) return std::nullopt;
    std::int64_t r = 0;
    for (char c : body) {
        if (c == '_') continue;
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'z') ? c - 'a' + 10 : (c >= 'A' && c <= 'Z') ? c - 'A' + 10 : 99;
        if (d >= base) return std::nullopt;
        if (__builtin_mul_overflow(r, base, &r) || __builtin_add_overflow(r, d, &r)) fail("integer overflow in int()");
    }
    return neg ? -r : r;
}

std::optional<double> to_float(const Value& v) {
    if (v.is_number()) return v.as_double();
    if (!v.is_string()) return std::nullopt;
    std::string s = strip_ws(v.str());
    std::string lower = str_lower(s);
    size_t sign = (!lower.empty() && (lower[0] == '+' || lower[0] == '-')) ? 1 : 0;
    std::string word = lower.substr(sign);
    double sgn = (sign && lower[0] == '-') ? -1.0 : 1.0;
    if (word == "inf" || word == "infinity") return sgn * HUGE_VAL;
    if (word == "nan") return std::nan("");
    // [digits][.digits][e[+-]digits] with underscores only between digits
    std::string clean;
    bool digit_seen = false;
    size_t i = 0;
    auto run = [&](bool& any) {
        size_t b = i;
        while (i < word.size() && (std::isdigit(static_cast<unsigned char>(word[i])) || word[i] == '_')) ++i;
        std::string part = word.substr(b, i - b);
        if (part.empty()) return true;
        if (!valid_underscores(part)) return false;
        any = true;
        for (char c : part)
            if (c != '_') clean.push_back(c);
        return true;
    };
    if (!run(digit_seen)) return std::nullopt;
    if (i < word.size() && word[i] == '.') {
        clean.push_back('.');
        ++i;
        if (!run(digit_seen)) return std::nullopt;
    }
    if (!digit_seen) return std::nullopt;
    if (i < word.size() && word[i] == 'e') {
        clean.push_back('e');
        ++i;
        if (i < word.size() && (word[i] == '+' || word[i] == '-')) clean.push_back(word[i++]);
        bool exp_digits = false;
        if (!run(exp_digits) || !exp_digits) return std::nullopt;
    }
    if (i != word.size()) return std::nullopt;
    return sgn * std::strtod(clean.c_str(), nullptr);
}

std::vector<std::string> py_split(const std::string& s, const std::string* sep, std::int64_t maxsplit, bool from_right) {
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty()) fail("empty separator");
        if (!from_right) {
            size_t pos = 0;
            while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
                size_t f = s.find(*sep, pos);
                if (f == std::string::npos) break;
                out.push_back(s.substr(pos, f - pos));
                pos = f + sep->size();
            }
            out.push_back(s.substr(pos));
            return out;
        }
        size_t end = s.size();
        std::vector<std::string> rev;
        while (maxsplit < 0 || static_cast<std::int64_t>(rev.size()) < maxsplit) {
            if (end < sep->size()) break;
            size_t f = s.rfind(*sep, end - sep->size());
            if (f == std::string::npos) break;
            rev.push_back(s.substr(f + sep->size(), end - f - sep->size()));
            end = f;
        }
        rev.push_back(s.substr(0, end));
        return {rev.rbegin(), rev.rend()};
    }
    std::vector<char32_t> cps = utf8_decode(s);
    if (!from_right) {
        size_t i = 0, n = cps.size();
        while (true) {
            while (i < n && py_isspace(cps[i])) ++i;
            if (i >= n) break;
            if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) >= maxsplit) {
                size_t e = n;
                while (e > i && py_isspace(cps[e - 1])) --e;
                out.push_back(utf8_encode(cps, i, e));
                break;
            }
            size_t b = i;
            while (i < n && !py_isspace(cps[i])) ++i;
            out.push_back(utf8_encode(cps, b, i));
        }
        return out;
    }
    size_t e = cps.size();
    std::vector<std::string> rev;
    while (true) {
        while (e > 0 && py_isspace(cps[e - 1])) --e;
        if (e == 0) break;
        if (maxsplit >= 0 && static_cast<std::int64_t>(rev.size()) >= maxsplit) {
            size_t b = 0;
            while (b < e && py_isspace(cps[b])) ++b;
            rev.push_back(utf8_encode(cps, b, e));
            break;
        }
        size_t b = e;
        while (b > 0 && !py_isspace(cps[b - 1])) --b;
        rev.push_back(utf8_encode(cps, b, e));
        e = b;
    }
    return {rev.rbegin(), rev.rend()};
}

std::vector<std::string> py_splitlines(const std::string& s, bool keepends) {
    std::vector<std::string> out;
    std::vector<char32_t> cps = utf8_decode(s);
    size_t b = 0, i = 0;
    while (i < cps.size()) {
        char32_t c = cps[i];
        bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
                   c == 0x2028 || c == 0x2029;
        if (!brk) {
            ++i;
            continue;
        }
        size_t e = i + 1;
        if (c == '\r' && e < cps.size() && cps[e] == '\n') ++e;
        out.push_back(utf8_encode(cps, b, keepends ? e : i));
        b = i = e;
    }
    if (b < cps.size()) out.push_back(utf8_encode(cps, b, cps.size()));
    return out;
}

std::string py_percent_format(Interpreter& in, const std::string& fmt, const Value& args) {
    std::vector<Value> pos;
    const DictObj* mapping = nullptr;
    if (args.is_list() && args.list()->is_tuple) pos = args.list()->items;
    else if (args.is_dict()) mapping = args.dict().get();
    else pos.push_back(args);
    size_t next_arg = 0;
    std::string out;
    auto take = [&]() -> Value {
        if (next_arg >= pos.size()) fail("not enough arguments for format string");
        return pos[next_arg++];
    };
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out.push_back(fmt[i]);
            continue;
        }
        if (++i >= fmt.size()) fail("incomplete format");
        Value arg;
        bool have_arg = false;
        if (fmt[i] == '(') {
            size_t close = fmt.find(')', i);
            if (close == std::string::npos) fail("incomplete format key");
            if (!mapping) fail("format requires a mapping");
            const Value* v = mapping->find(fmt.substr(i + 1, close - i - 1));
            if (!v) fail("format key '" + fmt.substr(i + 1, close - i - 1) + "' not found");
            arg = *v;
            have_arg = true;
            i = close + 1;
        }
        std::string flags;
        while (i < fmt.size() && std::strchr("-+ #0", fmt[i])) flags.push_back(fmt[i++]);
        std::string width, prec;
        if (i < fmt.size() && fmt[i] == '*') {
            width = std::to_string(take().as_int());
            ++i;
        }
        while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) width.push_back(fmt[i++]);
        if (i < fmt.size() && fmt[i] == '.') {
            ++i;
            prec = "0";
            if (i < fmt.size() && fmt[i] == '*') {
                prec = std::to_string(take().as_int());
                ++i;
            } else {
                std::string p;
                while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) p.push_back(fmt[i++]);
                if (!p.empty()) prec = p;
            }
        }
        if (width.size() > 6 || prec.size() > 6) fail("format width or precision too large");
        if (i >= fmt.size()) fail("incomplete format");
        char conv = fmt[i];
        if (conv == '%') {
            out.push_back('%');
            continue;
        }
        if (!have_arg) arg = take();
        std::string piece;
        char buf[512];
        std::string spec = "%" + flags + width + (prec.empty() ? "" : "." + prec);
        switch (conv) {
            case 's':
            case 'r':
            case 'a': {
                std::string s = conv == 's' ? to_str(arg, in.max_depth()) : repr(arg, in.max_depth());
                if (!prec.empty()) s = utf8_encode(utf8_decode(s), 0, std::stoul(prec));
                size_t len = utf8_length(s), w = width.empty() ? 0 : std::stoul(width);
                if (len < w) {
                    if (flags.find('-') != std::string::npos) s += std::string(w - len, ' ');
                    else s = std::string(w - len, ' ') + s;
                }
                piece = s;
                break;
            }
            case 'd':
            case 'i':
            case 'u': {
                if (!arg.is_number()) fail("%" + std::string(1, conv) + " format: a real number is required, not " + type_name(arg));
                std::int64_t v = arg.is_float() ? static_cast<std::int64_t>(arg.as_double()) : arg.as_int();
                std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), static_cast<long long>(v));
                piece = buf;
                break;
            }
            case 'x':
            case 'X':
            case 'o': {
                if (!arg.is_integral()) fail("%" + std::string(1, conv) + " format: an integer is required, not " + type_name(arg));
                std::int64_t v = arg.as_int();
                std::string body;
                std::snprintf(buf, sizeof buf, (spec + "ll" + std::string(1, conv)).c_str(),
                              static_cast<unsigned long long>(v < 0 ? -v : v));
                body = buf;
                if (v < 0) {
                    size_t p = body.find_first_not_of(' ');
                    body.insert(p == std::string::npos ? 0 : p, "-");
                }
                piece = body;
                break;
            }
            case 'e':
            case 'E':
            case 'f':
            case 'F':
            case 'g':
            case 'G': {
                if (!arg.is_number()) fail("must be real number, not " + type_name(arg));
                std::snprintf(buf, sizeof buf, (spec + std::string(1, conv)).c_str(), arg.as_double());
                piece = buf;
                break;
            }
            case 'c': {
                if (arg.is_string() && utf8_length(arg.str()) == 1) piece = arg.str();
                else if (arg.is_integral() && arg.as_int() >= 0 && arg.as_int() <= 0x10FFFF) utf8_append(piece, static_cast<char32_t>(arg.as_int()));
                else fail("%c requires int or char");
                break;
            }
            default: fail(std::string("unsupported format character '") + conv + "'");
        }
        in.check_size(out.size() + piece.size());
        out += piece;
    }
    if (!mapping && next_arg < pos.size()) fail("not all arguments converted during string formatting");
    return out;
}

// ---- tests ----------------------------------------------------------------------------------------

namespace {

const Value& arg0(const CallArgs& a, const char* test) {
    if (a.positional.empty()) fail(std::string("test '") + test + "' needs an argument");
    return a.positional[0];
}

bool test_defined(Interpreter&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool test_undefined(Interpreter&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool test_none(Interpreter&, const Value& v, CallArgs&) { return v.is_none(); }
bool test_boolean(Interpreter&, const Value& v, CallArgs&) { return v.is_bool(); }
bool test_false(Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); }
bool test_true(Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); }
bool test_integer(Interpreter&, const Value& v, CallArgs&) { return v.is_int(); }
bool test_float(Interpreter&, const Value& v, CallArgs&) { return v.is_float(); }
bool test_number(Interpreter&, const Value& v, CallArgs&) { return v.is_number(); }
bool test_string(Interpreter&, const Value& v, CallArgs&) { return v.is_string(); }
bool test_mapping(Interpreter&, const Value& v, CallArgs&) { return v.is_dict(); }
bool test_callable(Interpreter&, const Value& v, CallArgs&) { return v.is_func(); }
bool test_iterable(Interpreter&, const Value& v, CallArgs&) {
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool test_sequence(Interpreter&, const Value& v, CallArgs&) {
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool test_escaped(Interpreter&, const Value&, CallArgs&) { return false; }
bool test_lower(Interpreter& in, const Value& v, CallArgs&) {
    std::string s = to_str(v, in.max_depth());
    bool cased = false;
    for (char32_t c : utf8_decode(s)) {
        if (py_iscased_upper(c)) return false;
        if (py_iscased_lower(c)) cased = true;
    }
    return cased;
}
bool test_upper(Interpreter& in, const Value& v, CallArgs&) {
    std::string s = to_str(v, in.max_depth());
    bool cased = false;
    for (char32_t c : utf8_decode(s)) {
        if (py_iscased_lower(c)) return false;
        if (py_iscased_upper(c)) cased = true;
    }
    return cased;
}
std::int64_t int_operand(const Value& v, const char* test) {
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_integral()) fail(std::string("test '") + test + "' needs an integer, not " + type_name(v));
    return v.as_int();
}
bool test_odd(Interpreter&, const Value& v, CallArgs&) { return (int_operand(v, "odd") % 2) != 0; }
bool test_even(Interpreter&, const Value& v, CallArgs&) { return (int_operand(v, "even") % 2) == 0; }
bool test_divisibleby(Interpreter&, const Value& v, CallArgs& a) {
    std::int64_t d = int_operand(arg0(a, "divisibleby"), "divisibleby");
    if (d == 0) fail("integer division or modulo by zero");
    return int_operand(v, "divisibleby") % d == 0;
}
bool test_eq(Interpreter&, const Value& v, CallArgs& a) { return py_equal(v, arg0(a, "eq")); }
bool test_ne(Interpreter&, const Value& v, CallArgs& a) { return !py_equal(v, arg0(a, "ne")); }
int ordered(const Value& a, const Value& b) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    return py_compare(a, b);
}
bool test_lt(Interpreter&, const Value& v, CallArgs& a) { return ordered(v, arg0(a, "lt")) < 0; }
bool test_le(Interpreter&, const Value& v, CallArgs& a) { return ordered(v, arg0(a, "le")) <= 0; }
bool test_gt(Interpreter&, const Value& v, CallArgs& a) { return ordered(v, arg0(a, "gt")) > 0; }
bool test_ge(Interpreter&, const Value& v, CallArgs& a) { return ordered(v, arg0(a, "ge")) >= 0; }
bool test_in(Interpreter&, const Value& v, CallArgs& a) { return contains(arg0(a, "in"), v); }
bool test_sameas(Interpreter&, const Value& v, CallArgs& a) {
    const Value& o = arg0(a, "sameas");
    if (v.kind() != o.kind()) return false;
    switch (v.kind()) {
        case Value::Kind::List: return v.list() == o.list();
        case Value::Kind::Dict: return v.dict() == o.dict();
        case Value::Kind::Func: return v.func() == o.func();
        case Value::Kind::Namespace: return v.ns() == o.ns();
        default: return py_equal(v, o);
    }
}
bool test_filter(Interpreter&, const Value& v, CallArgs&) { return v.is_string() && find_filter(v.str()) != nullptr; }
bool test_test(Interpreter&, const Value& v, CallArgs&) { return v.is_string() && find_test(v.str()) != nullptr; }

}  // namespace

TestFn find_test(const std::string& name) {
    static const std::unordered_map<std::string, TestFn> tests = {
        {"defined", test_defined},   {"undefined", test_undefined}, {"none", test_none},
        {"boolean", test_boolean},   {"false", test_false},         {"true", test_true},
        {"integer", test_integer},   {"float", test_float},         {"number", test_number},
        {"string", test_string},     {"mapping", test_mapping},     {"callable", test_callable},
        {"iterable", test_iterable}, {"sequence", test_sequence},   {"escaped", test_escaped},
        {"lower", test_lower},       {"upper", test_upper},         {"odd", test_odd},
        {"even", test_even},         {"divisibleby", test_divisibleby},
        {"eq", test_eq},             {"equalto", test_eq},          {"==", test_eq},
        {"ne", test_ne},             {"!=", test_ne},               {"lt", test_lt},
        {"lessthan", test_lt},       {"<", test_lt},                {"le", test_le},
        {"<=", test_le},             {"gt", test_gt},               {"greaterthan", test_gt},
        {">", test_gt},              {"ge", test_ge},               {">=", test_ge},
        {"in", test_in},             {"sameas", test_sameas},       {"filter", test_filter},
        {"test", test_test},
    };
    auto it = tests.find(name);
    return it == tests.end() ? nullptr : it->second;
}

// ---- methods ----------------------------------------------------------------------------------------

namespace {

// Byte offset of code point index `cp` in s (clamped), Python-style negative indices allowed.
size_t cp_to_byte(const std::string& s, std::int64_t cp) {
    std::int64_t n = static_cast<std::int64_t>(utf8_length(s));
    if (cp < 0) cp = std::max<std::int64_t>(0, cp + n);
    if (cp >= n) return s.size();
    size_t b = 0;
    for (std::int64_t k = 0; k < cp; ++k) {
        ++b;
        while (b < s.size() && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) ++b;
    }
    return b;
}

std::int64_t byte_to_cp(const std::string& s, size_t b) { return static_cast<std::int64_t>(utf8_length(s.substr(0, b))); }

std::vector<std::string> string_options(const Value& v, const char* method) {
    if (v.is_string()) return {v.str()};
    if (v.is_list() && v.list()->is_tuple) {
        std::vector<std::string> out;
        for (const auto& x : v.list()->items) {
            if (!x.is_string()) fail(std::string(method) + "() tuple items must be str");
            out.push_back(x.str());
        }
        return out;
    }
    fail(std::string(method) + "() argument must be str or a tuple of str, not " + type_name(v));
}

std::string pad_to(const std::string& s, std::int64_t width, const std::string& fill, int align) {
    std::int64_t len = static_cast<std::int64_t>(utf8_length(s));
    if (width > (1 << 24)) fail("width too large");
    if (len >= width) return s;
    std::int64_t total = width - len;
    std::int64_t left = align < 0 ? 0 : align > 0 ? total : total / 2 + ((total & width & 1) ? 1 : 0);
    std::string out;
    for (std::int64_t i = 0; i < left; ++i) out += fill;
    out += s;
    for (std::int64_t i = 0; i < total - left; ++i) out += fill;
    return out;
}

std::string replace_all(Interpreter& in, const std::string& s, const std::string& old, const std::string& repl, std::int64_t count) {
    std::string out;
    std::int64_t done = 0;
    if (old.empty()) {
        std::vector<char32_t> cps = utf8_decode(s);
        for (size_t i = 0; i <= cps.size(); ++i) {
            if (count < 0 || done < count) {
                out += repl;
                ++done;
            }
            if (i < cps.size()) utf8_append(out, cps[i]);
            in.check_size(out.size());
        }
        return out;
    }
    size_t pos = 0;
    while (count < 0 || done < count) {
        size_t f = s.find(old, pos);
        if (f == std::string::npos) break;
        out.append(s, pos, f - pos);
        out += repl;
        in.check_size(out.size());
        pos = f + old.size();
        ++done;
    }
    out.append(s, pos, std::string::npos);
    in.check_size(out.size());
    return out;
}

std::string simple_format(Interpreter& in, const std::string& fmt, const CallArgs& a) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c == '}' ) {
            if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
            else fail("Single '}' encountered in format string");
            out.push_back('}');
            continue;
        }
        if (c != '{') {
            out.push_back(c);
            continue;
        }
        if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out.push_back('{');
            ++i;
            continue;
        }
        size_t close = fmt.find('}', i);
        if (close == std::string::npos) fail("Single '{' encountered in format string");
        std::string field = fmt.substr(i + 1, close - i - 1);
        i = close;
        bool use_repr = false;
        size_t bang = field.find('!');
        if (bang != std::string::npos) {
            use_repr = field.substr(bang + 1) == "r";
            field = field.substr(0, bang);
        }
        if (field.find(':') != std::string::npos) fail("format specifications in str.format() are not supported");
        Value v;
        if (field.empty()) {
            if (auto_index >= a.positional.size()) fail("Replacement index " + std::to_string(auto_index) + " out of range");
            v = a.positional[auto_index++];
        } else if (std::all_of(field.begin(), field.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
            size_t idx = std::stoul(field);
            if (idx >= a.positional.size()) fail("Replacement index " + field + " out of range");
            v = a.positional[idx];
        } else {
            bool found = false;
            for (const auto& [k, x] : a.keyword)
                if (k == field) {
                    v = x;
                    found = true;
                }
            if (!found) fail("KeyError: '" + field + "'");
        }
        out += use_repr ? repr(v, in.max_depth()) : to_str(v, in.max_depth());
        in.check_size(out.size());
    }
    return out;
}

Value str_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& a) {
    auto chars_arg = [&](const char* fname) -> std::optional<std::string> {
        BoundArgs b(a, {"chars"}, fname);
        const Value* c = b.get(0);
        if (!c || c->is_none()) return std::nullopt;
        if (!c->is_string()) fail(std::string(fname) + " arg must be None or str");
        return c->str();
    };
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        auto chars = chars_arg(name.c_str());
        return Value(str_strip(s, chars ? &*chars : nullptr, name != "rstrip", name != "lstrip"));
    }
    if (name == "split" || name == "rsplit") {
        BoundArgs b(a, {"sep", "maxsplit"}, name);
        Value sep = b.get_or(0, Value::none());
        std::int64_t maxsplit = b.get_or(1, Value(-1)).as_int();
        if (!sep.is_none() && !sep.is_string()) fail("must be str or None, not " + type_name(sep));
        std::vector<Value> items;
        for (auto& p : py_split(s, sep.is_none() ? nullptr : &sep.str(), maxsplit, name == "rsplit")) items.emplace_back(std::move(p));
        return make_list(std::move(items));
    }
    if (name == "startswith" || name == "endswith") {
        BoundArgs b(a, {"prefix", "start", "end"}, name);
        if (!b.get(0)) fail(name + "() takes at least 1 argument (0 given)");
        std::string sub = s;
        if (b.get(1) || b.get(2)) {
            size_t bs = b.get(1) && !b.get(1)->is_none() ? cp_to_byte(s, b.get(1)->as_int()) : 0;
            size_t be = b.get(2) && !b.get(2)->is_none() ? cp_to_byte(s, b.get(2)->as_int()) : s.size();
            sub = be > bs ? s.substr(bs, be - bs) : std::string();
        }
        for (const auto& opt : string_options(*b.get(0), name.c_str())) {
            if (opt.size() > sub.size()) continue;
            if (name == "startswith" ? sub.compare(0, opt.size(), opt) == 0
                                     : sub.compare(sub.size() - opt.size(), opt.size(), opt) == 0)
                return Value(true);
        }
        return Value(false);
    }
    if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "casefold" ||
        name == "swapcase") {
        BoundArgs b(a, {}, name);
        if (name == "upper") return Value(str_upper(s));
        if (name == "lower" || name == "casefold") return Value(str_lower(s));
        if (name == "title") return Value(str_title(s));
        if (name == "capitalize") return Value(str_capitalize(s));
        std::string out;
        for (char32_t c : utf8_decode(s)) utf8_append(out, py_iscased_upper(c) ? py_lower(c) : py_upper(c));
        return Value(out);
    }
    if (name == "replace") {
        BoundArgs b(a, {"old", "new", "count"}, name);
        if (!b.get(0) || !b.get(1) || !b.get(0)->is_string() || !b.get(1)->is_string())
            fail("replace() arguments must be str");
        return Value(replace_all(in, s, b.get(0)->str(), b.get(1)->str(), b.get_or(2, Value(-1)).as_int()));
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
        BoundArgs b(a, {"sub", "start", "end"}, name);
        if (!b.get(0) || !b.get(0)->is_string()) fail(name + "() argument must be str");
        const std::string& sub = b.get(0)->str();
        size_t bs = b.get(1) && !b.get(1)->is_none() ? cp_to_byte(s, b.get(1)->as_int()) : 0;
        size_t be = b.get(2) && !b.get(2)->is_none() ? cp_to_byte(s, b.get(2)->as_int()) : s.size();
        std::string hay = be > bs ? s.substr(bs, be - bs) : std::string();
        if (name == "count") {
            if (sub.empty()) return Value(static_cast<std::int64_t>(utf8_length(hay)) + 1);
            std::int64_t n = 0;
            for (size_t p = hay.find(sub); p != std::string::npos; p = hay.find(sub, p + sub.size())) ++n;
            return Value(n);
        }
        size_t f = (name == "find" || name == "index") ? hay.find(sub) : hay.rfind(sub);
        if (f == std::string::npos) {
            if (name == "index" || name == "rindex") fail("substring not found");
            return Value(-1);
        }
        return Value(byte_to_cp(s, bs + f));
    }
    if (name == "join") {
        BoundArgs b(a, {"iterable"}, name);
        if (!b.get(0)) fail("join() takes exactly one argument");
        std::string out;
        bool first = true;
        for (const auto& x : iterate(*b.get(0))) {
            if (!x.is_string()) fail("sequence item: expected str instance, " + type_name(x) + " found");
            if (!first) out += s;
            first = false;
            out += x.str();
            in.check_size(out.size());
        }
        return Value(out);
    }
    if (name == "splitlines") {
        BoundArgs b(a, {"keepends"}, name);
        std::vector<Value> items;
        for (auto& l : py_splitlines(s, truthy(b.get_or(0, Value(false))))) items.emplace_back(std::move(l));
        return make_list(std::move(items));
    }
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal" || name == "isalpha" || name == "isalnum" ||
        name == "isspace" || name == "islower" || name == "isupper") {
        BoundArgs b(a, {}, name);
        std::vector<char32_t> cps = utf8_decode(s);
        if (cps.empty()) return Value(false);
        if (name == "islower" || name == "isupper") {
            bool cased = false;
            for (char32_t c : cps) {
                if (name == "islower" ? py_iscased_upper(c) : py_iscased_lower(c)) return Value(false);
                if (name == "islower" ? py_iscased_lower(c) : py_iscased_upper(c)) cased = true;
            }
            return Value(cased);
        }
        for (char32_t c : cps) {
            bool ok = name == "isspace" ? py_isspace(c)
                      : name == "isalpha" ? (py_isalnum(c) && !(c >= '0' && c <= '9'))
                      : name == "isalnum" ? py_isalnum(c)
                                          : (c >= '0' && c <= '9');
            if (!ok) return Value(false);
        }
        return Value(true);
    }
    if (name == "center" || name == "ljust" || name == "rjust") {
        BoundArgs b(a, {"width", "fillchar"}, name);
        if (!b.get(0) || !b.get(0)->is_integral()) fail(name + "() width must be an integer");
        std::string fill = b.get_or(1, Value(" ")).is_string() ? b.get_or(1, Value(" ")).str() : " ";
        return Value(pad_to(s, b.get(0)->as_int(), fill, name == "center" ? 0 : name == "ljust" ? -1 : 1));
    }
    if (name == "zfill") {
        BoundArgs b(a, {"width"}, name);
        std::int64_t w = b.get_or(0, Value(0)).as_int();
        std::string body = s, sign;
        if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
            sign = body.substr(0, 1);
            body = body.substr(1);
        }
        return Value(sign + pad_to(body, w - static_cast<std::int64_t>(sign.size()), "0", 1));
    }
    if (name == "removeprefix" || name == "removesuffix") {
        BoundArgs b(a, {"affix"}, name);
        if (!b.get(0) || !b.get(0)->is_string()) fail(name + "() argument must be str");
        const std::string& x = b.get(0)->str();
        if (name == "removeprefix") return Value(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s);
        if (x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0) return Value(s.substr(0, s.size() - x.size()));
        return Value(s);
    }
    if (name == "partition" || name == "rpartition") {
        BoundArgs b(a, {"sep"}, name);
        if (!b.get(0) || !b.get(0)->is_string() || b.get(0)->str().empty()) fail(name + "() needs a non-empty str separator");
        const std::string& sep = b.get(0)->str();
        size_t f = name == "partition" ? s.find(sep) : s.rfind(sep);
        if (f == std::string::npos)
            return name == "partition" ? make_list({Value(s), Value(""), Value("")}, true)
                                       : make_list({Value(""), Value(""), Value(s)}, true);
        return make_list({Value(s.substr(0, f)), Value(sep), Value(s.substr(f + sep.size()))}, true);
    }
    if (name == "format") return Value(simple_format(in, s, a));
    fail("'str' object has no attribute '" + name + "'");
}

bool is_str_method(const std::string& n) {
    static const char* const names[] = {
        "strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith", "upper", "lower", "title",
        "capitalize", "casefold", "swapcase", "replace", "find", "rfind", "index", "rindex", "count", "join",
        "splitlines", "isdigit", "isnumeric", "isdecimal", "isalpha", "isalnum", "isspace", "islower", "isupper",
        "center", "ljust", "rjust", "zfill", "removeprefix", "removesuffix", "partition", "rpartition", "format"};
    for (const char* x : names)
        if (n == x) return true;
    return false;
}

Value dict_method(Interpreter&, const DictPtr& d, const std::string& name, CallArgs& a) {
    if (name == "get") {
        BoundArgs b(a, {"key", "default"}, name);
        if (!b.get(0)) fail("get expected at least 1 argument, got 0");
        const Value* v = d->find(*b.get(0));
        return v ? *v : b.get_or(1, Value::none());
    }
    BoundArgs b(a, {}, name);
    std::vector<Value> items;
    for (const auto& [k, v] : d->entries()) {
        if (name == "keys") items.push_back(k);
        else if (name == "values") items.push_back(v);
        else items.push_back(make_list({k, v}, true));
    }
    if (name == "copy") {
        Value c = make_dict();
        for (const auto& [k, v] : d->entries()) c.dict()->set(k, v);
        return c;
    }
    Value r = make_list(std::move(items));
    r.list()->view = name == "keys" ? "dict_keys" : name == "values" ? "dict_values" : "dict_items";
    return r;
}

Value list_method(Interpreter&, const ListPtr& l, const std::string& name, CallArgs& a) {
    if (name == "copy") {
        BoundArgs b(a, {}, name);
        return make_list(l->items, l->is_tuple);
    }
    BoundArgs b(a, {"value"}, name);
    if (!b.get(0)) fail(name + "() takes exactly one argument (0 given)");
    std::int64_t n = 0;
    for (size_t i = 0; i < l->items.size(); ++i) {
        if (py_equal(l->items[i], *b.get(0))) {
            if (name == "index") return Value(static_cast<std::int64_t>(i));
            ++n;
        }
    }
    if (name == "index") fail(repr(*b.get(0), 8) + " is not in list");
    return Value(n);
}

Value unsafe(const std::string& attr, const std::string& type) {
    return Value::undefined("access to attribute '" + attr + "' of '" + type + "' object is unsafe.");
}

}  // namespace

std::optional<Value> find_method(const Value& obj, const std::string& name) {
    if (obj.is_string()) {
        if (!is_str_method(name)) return std::nullopt;
        std::string self = obj.str();
        return make_func("str." + name, [self, name](Interpreter& in, CallArgs& a) { return str_method(in, self, name, a); });
    }
    if (obj.is_dict()) {
        if (name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" || name == "update")
            return unsafe(name, "dict");
        if (name != "get" && name != "items" && name != "keys" && name != "values" && name != "copy") return std::nullopt;
        DictPtr self = obj.dict();
        return make_func("dict." + name, [self, name](Interpreter& in, CallArgs& a) { return dict_method(in, self, name, a); });
    }
    if (obj.is_list()) {
        const std::string type = obj.list()->is_tuple ? "tuple" : "list";
        if (!obj.list()->is_tuple && (name == "append" || name == "extend" || name == "insert" || name == "pop" ||
                                      name == "remove" || name == "clear" || name == "sort" || name == "reverse"))
            return unsafe(name, type);
        if (name != "count" && name != "index" && !(name == "copy" && !obj.list()->is_tuple)) return std::nullopt;
        ListPtr self = obj.list();
        return make_func(type + "." + name, [self, name](Interpreter& in, CallArgs& a) { return list_method(in, self, name, a); });
    }
    return std::nullopt;
}

// ---- globals ----------------------------------------------------------------------------------------

namespace {

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

// strftime with the C locale's English names regardless of the process locale (Python's
// datetime.strftime in HF's renderer runs in the C locale for LC_TIME). Supports glibc's '-' flag.
std::string strftime_c(const std::string& fmt, const std::tm& tm) {
    std::string out;
    char buf[64];
    auto num = [&](int v, int width, bool nopad) {
        if (nopad) std::snprintf(buf, sizeof buf, "%d", v);
        else std::snprintf(buf, sizeof buf, "%0*d", width, v);
        out += buf;
    };
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%' || i + 1 >= fmt.size()) {
            out.push_back(fmt[i]);
            continue;
        }
        bool nopad = false;
        char c = fmt[++i];
        if (c == '-' && i + 1 < fmt.size()) {
            nopad = true;
            c = fmt[++i];
        }
        const int mon = ((tm.tm_mon % 12) + 12) % 12, wday = ((tm.tm_wday % 7) + 7) % 7;
        switch (c) {
            case 'Y': num(tm.tm_year + 1900, 4, nopad); break;
            case 'y': num((tm.tm_year + 1900) % 100, 2, nopad); break;
            case 'm': num(mon + 1, 2, nopad); break;
            case 'd': num(tm.tm_mday, 2, nopad); break;
            case 'e': std::snprintf(buf, sizeof buf, nopad ? "%d" : "%2d", tm.tm_mday); out += buf; break;
            case 'H': num(tm.tm_hour, 2, nopad); break;
            case 'I': num(tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12, 2, nopad); break;
            case 'M': num(tm.tm_min, 2, nopad); break;
            case 'S': num(tm.tm_sec, 2, nopad); break;
            case 'j': num(tm.tm_yday + 1, 3, nopad); break;
            case 'p': out += tm.tm_hour < 12 ? "AM" : "PM"; break;
            case 'B': out += kMonths[mon]; break;
            case 'b':
            case 'h': out += std::string(kMonths[mon]).substr(0, 3); break;
            case 'A': out += kDays[wday]; break;
            case 'a': out += std::string(kDays[wday]).substr(0, 3); break;
            case 'w': num(wday, 1, true); break;
            case 'Z':
            case 'z': break;  // naive datetime: empty, like Python
            case 'F': {
                std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, mon + 1, tm.tm_mday);
                out += buf;
                break;
            }
            case 'T': {
                std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
                out += buf;
                break;
            }
            case '%': out.push_back('%'); break;
            default: out.push_back('%'); if (nopad) out.push_back('-'); out.push_back(c);
        }
    }
    return out;
}

Value dict_from_args(CallArgs& a, const char* fname) {
    Value d = make_dict();
    if (a.positional.size() > 1) fail(std::string(fname) + " expected at most 1 positional argument");
    if (!a.positional.empty()) {
        const Value& src = a.positional[0];
        if (src.is_dict()) {
            for (const auto& [k, v] : src.dict()->entries()) d.dict()->set(k, v);
        } else {
            for (const auto& pair : iterate(src)) {
                std::vector<Value> kv = iterate(pair);
                if (kv.size() != 2) fail(std::string(fname) + ": sequence elements must have length 2");
                d.dict()->set(kv[0], kv[1]);
            }
        }
    }
    for (const auto& [k, v] : a.keyword) d.dict()->set(Value(k), v);
    return d;
}

}  // namespace

void install_globals(Frame& g) {
    g.vars["raise_exception"] = make_func("raise_exception", [](Interpreter& in, CallArgs& a) -> Value {
        std::string msg = a.positional.empty() ? std::string() : to_str(a.positional[0], in.max_depth());
        throw TemplateError(msg, 0, 0, true);
    });
    g.vars["strftime_now"] = make_func("strftime_now", [](Interpreter& in, CallArgs& a) -> Value {
        BoundArgs b(a, {"format"}, "strftime_now");
        if (!b.get(0) || !b.get(0)->is_string()) fail("strftime_now() needs a format string");
        return Value(strftime_c(b.get(0)->str(), in.now()));
    });
    g.vars["range"] = make_func("range", [](Interpreter& in, CallArgs& a) -> Value {
        if (!a.keyword.empty()) fail("range() takes no keyword arguments");
        std::vector<std::int64_t> n;
        for (const auto& v : a.positional) {
            if (!v.is_integral()) fail("'" + type_name(v) + "' object cannot be interpreted as an integer");
            n.push_back(v.as_int());
        }
        if (n.empty() || n.size() > 3) fail("range expected 1 to 3 arguments");
        std::int64_t start = n.size() == 1 ? 0 : n[0], stop = n.size() == 1 ? n[0] : n[1], step = n.size() == 3 ? n[2] : 1;
        if (step == 0) fail("range() arg 3 must not be zero");
        // Python's length formula, in floating point to avoid overflow; the sandbox caps it at 100000.
        double len = step > 0 ? std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step))
                              : std::ceil((static_cast<double>(start) - static_cast<double>(stop)) / static_cast<double>(-step));
        if (len > 100000) fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        std::vector<Value> items;
        std::int64_t v = start;
        for (std::int64_t i = 0; i < static_cast<std::int64_t>(std::max(0.0, len)); ++i) {
            in.step();
            if (step > 0 ? v >= stop : v <= stop) break;
            items.emplace_back(v);
            if (__builtin_add_overflow(v, step, &v)) break;
        }
        return make_list(std::move(items));
    });
    g.vars["dict"] = make_func("dict", [](Interpreter&, CallArgs& a) { return dict_from_args(a, "dict"); });
    g.vars["namespace"] = make_func("namespace", [](Interpreter&, CallArgs& a) -> Value {
        Value d = dict_from_args(a, "namespace");
        auto ns = std::make_shared<NamespaceObj>();
        for (const auto& [k, v] : d.dict()->entries()) ns->attrs.set(k, v);
        return Value(ns);
    });
}

}  // namespace bonsai::tmpl
