// Builtin filters with jinja2 3.1 semantics (names, parameters, edge cases), plus HF's tojson.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "template/builtins.h"
#include "template/text.h"

namespace bonsai::tmpl {

namespace {

std::string soft_str(Interpreter& in, const Value& v) { return v.is_string() ? v.str() : to_str(v, in.max_depth()); }

// jinja2's environment.getattr-based attribute getter used by map/selectattr/sort...:
// "a.b.0" walks attributes, digits become integer indices.
Value get_path(Interpreter& in, const Value& obj, const std::string& path) {
    Value cur = obj;
    size_t pos = 0;
    while (true) {
        size_t dot = path.find('.', pos);
        std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        cur = digits && part.size() < 18 ? in.getitem(cur, Value(static_cast<std::int64_t>(std::stoll(part)))) : in.getitem(cur, Value(part));
        if (dot == std::string::npos) return cur;
        pos = dot + 1;
    }
}

Value lowered(const Value& v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) return Value(str_lower(v.str()));
    return v;
}

Value f_abs(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "abs");
    if (v.is_float()) return Value(std::fabs(v.as_double()));
    if (v.is_integral()) {
        if (v.as_int() == INT64_MIN) fail("integer overflow");
        return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    if (v.is_undefined()) fail_undefined(v);
    fail("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"name"}, "attr");
    if (!b.get(0) || !b.get(0)->is_string()) fail("attr() needs an attribute name");
    return in.getattr(v, b.get(0)->str());
}

Value f_batch(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"linecount", "fill_with"}, "batch");
    if (!b.get(0) || !b.get(0)->is_integral() || b.get(0)->as_int() <= 0) fail("batch() needs a positive line count");
    size_t n = static_cast<size_t>(b.get(0)->as_int());
    std::vector<Value> rows, cur;
    for (auto& x : iterate(v)) {
        in.step();
        cur.push_back(x);
        if (cur.size() == n) {
            rows.push_back(make_list(std::move(cur)));
            cur.clear();
        }
    }
    if (!cur.empty()) {
        if (b.get(1)) while (cur.size() < n) cur.push_back(*b.get(1));
        rows.push_back(make_list(std::move(cur)));
    }
    return make_list(std::move(rows));
}

Value f_capitalize(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "capitalize");
    return Value(str_capitalize(soft_str(in, v)));
}

Value f_center(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"width"}, "center");
    std::int64_t w = b.get_or(0, Value(80)).as_int();
    std::string s = soft_str(in, v);
    std::int64_t len = static_cast<std::int64_t>(utf8_length(s));
    if (w > static_cast<std::int64_t>(in.limits().max_output_bytes)) in.check_size(static_cast<size_t>(-1));
    if (len >= w) return Value(s);
    std::int64_t marg = w - len, left = marg / 2 + (marg & w & 1);
    return Value(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(marg - left), ' '));
}

Value f_default(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"default_value", "boolean"}, "default");
    bool boolean = truthy(b.get_or(1, Value(false)));
    if (v.is_undefined() || (boolean && !truthy(v))) return b.get_or(0, Value(""));
    return v;
}

Value f_dictsort(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"case_sensitive", "by", "reverse"}, "dictsort");
    if (!v.is_dict()) fail("dictsort() needs a dict, not " + type_name(v));
    bool cs = truthy(b.get_or(0, Value(false)));
    std::string by = b.get_or(1, Value("key")).is_string() ? b.get_or(1, Value("key")).str() : "key";
    if (by != "key" && by != "value") fail("You can only sort by either \"key\" or \"value\"");
    size_t pos = by == "key" ? 0 : 1;
    std::vector<std::pair<Value, Value>> items = v.dict()->entries();
    std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
        const Value& l = pos == 0 ? x.first : x.second;
        const Value& r = pos == 0 ? y.first : y.second;
        return py_compare(lowered(l, cs), lowered(r, cs)) < 0;
    });
    if (truthy(b.get_or(2, Value(false)))) std::reverse(items.begin(), items.end());
    std::vector<Value> out;
    for (auto& [k, val] : items) out.push_back(make_list({k, val}, true));
    return make_list(std::move(out));
}

Value f_escape(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "escape");
    std::string s = soft_str(in, v), out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return Value(out);
}

Value f_first(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "first");
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No first item, sequence was empty.");
    return items.front();
}

Value f_last(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "last");
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No last item, sequence was empty.");
    return items.back();
}

Value f_float(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"default"}, "float");
    if (auto d = to_float(v)) return Value(*d);
    return b.get_or(0, Value(0.0));
}

Value f_int(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"default", "base"}, "int");
    int base = static_cast<int>(b.get_or(1, Value(10)).as_int());
    if (v.is_string()) {
        if (auto i = to_int(v, base)) return Value(*i);
    } else if (v.is_number()) {
        if (auto i = to_int(v, 10)) return Value(*i);
        return b.get_or(0, Value(0));
    }
    if (auto d = to_float(v)) {
        if (auto i = to_int(Value(*d), 10)) return Value(*i);
    }
    return b.get_or(0, Value(0));
}

Value f_format(Interpreter& in, const Value& v, CallArgs& a) {
    if (!a.keyword.empty() && !a.positional.empty()) fail("can't handle positional and keyword arguments at the same time");
    if (!a.keyword.empty()) {
        Value d = make_dict();
        for (auto& [k, x] : a.keyword) d.dict()->set(Value(k), x);
        return Value(py_percent_format(in, soft_str(in, v), d));
    }
    return Value(py_percent_format(in, soft_str(in, v), make_list(a.positional, true)));
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"width", "first", "blank"}, "indent");
    Value w = b.get_or(0, Value(4));
    std::string ind;
    if (w.is_string()) {
        ind = w.str();
    } else {
        if (!w.is_integral()) fail("indent() width must be an integer or a string");
        if (w.as_int() > static_cast<std::int64_t>(in.limits().max_output_bytes)) in.check_size(static_cast<size_t>(-1));
        ind = std::string(static_cast<size_t>(std::max<std::int64_t>(0, w.as_int())), ' ');
    }
    bool first = truthy(b.get_or(1, Value(false))), blank = truthy(b.get_or(2, Value(false)));
    std::string s = soft_str(in, v) + "\n";
    std::vector<std::string> lines = py_splitlines(s, false);
    std::string rv;
    if (blank) {
        for (size_t i = 0; i < lines.size(); ++i) {
            if (i) rv += "\n" + ind;
            rv += lines[i];
            in.check_size(rv.size());
        }
    } else {
        rv = lines.empty() ? std::string() : lines[0];
        for (size_t i = 1; i < lines.size(); ++i) {
            rv += "\n";
            if (!lines[i].empty()) rv += ind;
            rv += lines[i];
            in.check_size(rv.size());
        }
    }
    if (first) rv = ind + rv;
    return Value(rv);
}

Value f_items(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "items");
    if (v.is_undefined()) return make_list({});
    if (!v.is_dict()) fail("Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, val] : v.dict()->entries()) out.push_back(make_list({k, val}, true));
    return make_list(std::move(out));
}

Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"d", "attribute"}, "join");
    std::string sep = soft_str(in, b.get_or(0, Value("")));
    std::string out;
    bool first = true;
    for (const auto& x : iterate(v)) {
        in.step();
        if (!first) out += sep;
        first = false;
        Value item = b.get(1) && !b.get(1)->is_none() ? get_path(in, x, soft_str(in, *b.get(1))) : x;
        out += soft_str(in, item);
        in.check_size(out.size());
    }
    return Value(out);
}

Value f_length(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "length");
    if (v.is_namespace() && !v.ns()->is_loop) return Value(static_cast<std::int64_t>(v.ns()->attrs.size()));
    return Value(py_len(v));
}

Value f_list(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "list");
    return make_list(iterate(v));
}

Value f_lower(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "lower");
    return Value(str_lower(soft_str(in, v)));
}

Value f_upper(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "upper");
    return Value(str_upper(soft_str(in, v)));
}

// map(attribute=..., default=...) or map('filter', args...)
Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
    std::vector<Value> out;
    const Value* attribute = nullptr;
    const Value* def = nullptr;
    for (const auto& [k, x] : a.keyword) {
        if (k == "attribute") attribute = &x;
        else if (k == "default") def = &x;
    }
    if (attribute) {
        for (const auto& [k, x] : a.keyword)
            if (k != "attribute" && k != "default") fail("Unexpected keyword argument '" + k + "'");
        if (!a.positional.empty()) fail("map() got positional arguments with attribute=");
        for (const auto& item : iterate(v)) {
            in.step();
            Value r = get_path(in, item, soft_str(in, *attribute));
            out.push_back(r.is_undefined() && def ? *def : r);
        }
        return make_list(std::move(out));
    }
    if (a.positional.empty()) return make_list(iterate(v));
    if (!a.positional[0].is_string()) fail("map() needs a filter name");
    std::string fname = a.positional[0].str();
    CallArgs rest;
    rest.positional.assign(a.positional.begin() + 1, a.positional.end());
    rest.keyword = a.keyword;
    for (const auto& item : iterate(v)) {
        CallArgs copy = rest;
        out.push_back(in.apply_filter(fname, item, copy));
    }
    return make_list(std::move(out));
}

// Shared by select/reject/selectattr/rejectattr.
Value select_impl(Interpreter& in, const Value& v, CallArgs& a, bool by_attr, bool keep_if) {
    size_t p = 0;
    std::string attr;
    if (by_attr) {
        if (a.positional.empty() || !a.positional[0].is_string()) fail("selectattr/rejectattr need an attribute name");
        attr = a.positional[0].str();
        p = 1;
    }
    std::string test;
    if (p < a.positional.size()) {
        if (!a.positional[p].is_string()) fail("test name must be a string");
        test = a.positional[p].str();
        ++p;
    }
    CallArgs targs;
    targs.positional.assign(a.positional.begin() + static_cast<std::ptrdiff_t>(std::min(p, a.positional.size())), a.positional.end());
    targs.keyword = a.keyword;
    std::vector<Value> out;
    for (const auto& item : iterate(v)) {
        Value subject = by_attr ? get_path(in, item, attr) : item;
        bool r;
        if (test.empty()) {
            in.step();
            r = truthy(subject);
        } else {
            CallArgs copy = targs;
            r = in.apply_test(test, subject, copy);
        }
        if (r == keep_if) out.push_back(item);
    }
    return make_list(std::move(out));
}
Value f_select(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, false, true); }
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, true, false); }

Value minmax(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
    BoundArgs b(a, {"case_sensitive", "attribute"}, want_max ? "max" : "min");
    bool cs = truthy(b.get_or(0, Value(false)));
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
    auto key = [&](const Value& x) {
        Value k = b.get(1) && !b.get(1)->is_none() ? get_path(in, x, soft_str(in, *b.get(1))) : x;
        return lowered(k, cs);
    };
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
        int c = py_compare(key(items[i]), key(items[best]));
        if (want_max ? c > 0 : c < 0) best = i;
    }
    return items[best];
}
Value f_max(Interpreter& in, const Value& v, CallArgs& a) { return minmax(in, v, a, true); }
Value f_min(Interpreter& in, const Value& v, CallArgs& a) { return minmax(in, v, a, false); }

Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"old", "new", "count"}, "replace");
    if (!b.get(0) || !b.get(1)) fail("replace() needs old and new");
    CallArgs args;
    args.positional = {Value(soft_str(in, *b.get(0))), Value(soft_str(in, *b.get(1)))};
    if (b.get(2) && !b.get(2)->is_none()) args.positional.push_back(*b.get(2));
    auto m = find_method(Value(soft_str(in, v)), "replace");
    return in.call(*m, args);
}

Value f_reverse(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "reverse");
    if (v.is_string()) {
        std::vector<char32_t> cps = utf8_decode(v.str());
        std::reverse(cps.begin(), cps.end());
        return Value(utf8_encode(cps, 0, cps.size()));
    }
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return make_list(std::move(items));
}

Value f_round(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"precision", "method"}, "round");
    std::int64_t prec = b.get_or(0, Value(0)).as_int();
    std::string method = b.get_or(1, Value("common")).is_string() ? b.get_or(1, Value("common")).str() : "";
    if (method != "common" && method != "ceil" && method != "floor") fail("method must be common, ceil or floor");
    if (!v.is_number()) fail("round() needs a number, not " + type_name(v));
    if (v.is_integral() && method == "common") return Value(v.as_int());
    double scale = std::pow(10.0, static_cast<double>(prec));
    double x = v.as_double();
    if (method == "ceil") return Value(std::ceil(x * scale) / scale);
    if (method == "floor") return Value(std::floor(x * scale) / scale);
    return Value(std::nearbyint(x * scale) / scale);  // round-half-even like Python's round()
}

Value f_safe(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "safe");
    return v;
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"reverse", "case_sensitive", "attribute"}, "sort");
    bool rev = truthy(b.get_or(0, Value(false))), cs = truthy(b.get_or(1, Value(false)));
    std::vector<Value> items = iterate(v);
    auto key = [&](const Value& x) {
        Value k = b.get(2) && !b.get(2)->is_none() ? get_path(in, x, soft_str(in, *b.get(2))) : x;
        return lowered(k, cs);
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        in.step();
        return rev ? py_compare(key(y), key(x)) < 0 : py_compare(key(x), key(y)) < 0;
    });
    return make_list(std::move(items));
}

Value f_string(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "string");
    return Value(soft_str(in, v));
}

Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"attribute", "start"}, "sum");
    Value total = b.get_or(1, Value(0));
    for (const auto& x : iterate(v)) {
        Value item = b.get(0) && !b.get(0)->is_none() ? get_path(in, x, soft_str(in, *b.get(0))) : x;
        if (!total.is_number() || !item.is_number()) fail("unsupported operand type(s) for +: '" + type_name(total) + "' and '" + type_name(item) + "'");
        if (total.is_float() || item.is_float()) total = Value(total.as_double() + item.as_double());
        else {
            std::int64_t r;
            if (__builtin_add_overflow(total.as_int(), item.as_int(), &r)) fail("integer overflow");
            total = Value(r);
        }
    }
    return total;
}

Value f_title(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "title");
    // jinja2: split on runs of [-\s({[<], uppercase the first char of every piece, lowercase the rest.
    std::vector<char32_t> cps = utf8_decode(soft_str(in, v));
    auto is_sep = [](char32_t c) { return c == '-' || py_isspace(c) || c == '(' || c == '{' || c == '[' || c == '<'; };
    std::string out;
    bool at_start = true;
    for (size_t i = 0; i < cps.size(); ++i) {
        bool sep = is_sep(cps[i]);
        if (i > 0 && sep != is_sep(cps[i - 1])) at_start = true;
        utf8_append(out, at_start ? py_upper(cps[i]) : py_lower(cps[i]));
        at_start = false;
    }
    return Value(out);
}

Value f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"ensure_ascii", "indent", "separators", "sort_keys"}, "tojson");
    JsonDumpOptions o;
    o.ensure_ascii = truthy(b.get_or(0, Value(false)));
    Value indent = b.get_or(1, Value::none());
    if (indent.is_integral()) {
        if (indent.as_int() > 4096) fail("tojson indent too large");
        o.indent = static_cast<int>(std::max<std::int64_t>(0, indent.as_int()));
    } else if (!indent.is_none()) {
        fail("tojson indent must be an integer or None");
    }
    Value seps = b.get_or(2, Value::none());
    if (!seps.is_none()) {
        std::vector<Value> s = iterate(seps);
        if (s.size() != 2 || !s[0].is_string() || !s[1].is_string()) fail("tojson separators must be two strings");
        o.custom_separators = true;
        o.item_sep = s[0].str();
        o.key_sep = s[1].str();
    }
    o.sort_keys = truthy(b.get_or(3, Value(false)));
    o.max_bytes = in.limits().max_output_bytes;
    return Value(json_dumps(v, o, in.max_depth()));
}

Value f_trim(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"chars"}, "trim");
    std::string chars;
    bool have = b.get(0) && !b.get(0)->is_none();
    if (have) chars = soft_str(in, *b.get(0));
    return Value(str_strip(soft_str(in, v), have ? &chars : nullptr, true, true));
}

Value f_truncate(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"length", "killwords", "end", "leeway"}, "truncate");
    std::int64_t length = b.get_or(0, Value(255)).as_int();
    bool kill = truthy(b.get_or(1, Value(false)));
    std::string end = soft_str(in, b.get_or(2, Value("...")));
    std::int64_t leeway = b.get(3) && !b.get(3)->is_none() ? b.get(3)->as_int() : 5;
    std::vector<char32_t> cps = utf8_decode(soft_str(in, v));
    std::int64_t elen = static_cast<std::int64_t>(utf8_length(end));
    if (length < elen) fail("expected length >= " + std::to_string(elen) + ", got " + std::to_string(length));
    if (leeway < 0) fail("expected leeway >= 0, got " + std::to_string(leeway));
    if (static_cast<std::int64_t>(cps.size()) <= length + leeway) return Value(utf8_encode(cps, 0, cps.size()));
    std::string head = utf8_encode(cps, 0, static_cast<size_t>(length - elen));
    if (kill) return Value(head + end);
    size_t sp = head.rfind(' ');
    if (sp != std::string::npos) head = head.substr(0, sp);
    return Value(head + end);
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {"case_sensitive", "attribute"}, "unique");
    bool cs = truthy(b.get_or(0, Value(false)));
    std::vector<Value> seen, out;
    for (const auto& x : iterate(v)) {
        in.step();
        Value k = lowered(b.get(1) && !b.get(1)->is_none() ? get_path(in, x, soft_str(in, *b.get(1))) : x, cs);
        bool dup = false;
        for (const auto& s : seen)
            if (py_equal(s, k)) dup = true;
        if (!dup) {
            seen.push_back(k);
            out.push_back(x);
        }
    }
    return make_list(std::move(out));
}

Value f_wordcount(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs b(a, {}, "wordcount");
    std::int64_t n = 0;
    bool in_word = false;
    for (char32_t c : utf8_decode(soft_str(in, v))) {
        bool w = py_isalnum(c) || c == '_' || (c >= 0x80 && !py_isspace(c));
        if (w && !in_word) ++n;
        in_word = w;
    }
    return Value(n);
}

}  // namespace

FilterFn find_filter(const std::string& name) {
    static const std::unordered_map<std::string, FilterFn> filters = {
        {"abs", f_abs},         {"attr", f_attr},           {"batch", f_batch},         {"capitalize", f_capitalize},
        {"center", f_center},   {"count", f_length},        {"d", f_default},           {"default", f_default},
        {"dictsort", f_dictsort}, {"e", f_escape},          {"escape", f_escape},       {"first", f_first},
        {"float", f_float},     {"format", f_format},       {"indent", f_indent},       {"int", f_int},
        {"items", f_items},     {"join", f_join},           {"last", f_last},           {"length", f_length},
        {"list", f_list},       {"lower", f_lower},         {"map", f_map},             {"max", f_max},
        {"min", f_min},         {"reject", f_reject},       {"rejectattr", f_rejectattr}, {"replace", f_replace},
        {"reverse", f_reverse}, {"round", f_round},         {"safe", f_safe},           {"select", f_select},
        {"selectattr", f_selectattr}, {"sort", f_sort},     {"string", f_string},       {"sum", f_sum},
        {"title", f_title},     {"tojson", f_tojson},       {"trim", f_trim},           {"truncate", f_truncate},
        {"unique", f_unique},   {"upper", f_upper},         {"wordcount", f_wordcount},
    };
    auto it = filters.find(name);
    return it == filters.end() ? nullptr : it->second;
}

}  // namespace bonsai::tmpl
