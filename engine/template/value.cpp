// Python-like semantics of template values (see value.h).
#include "template/value.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "template/text.h"

namespace bonsai::tmpl {

[[noreturn]] void fail(const std::string& message) { throw TemplateError(message, 0, 0, false); }

Value make_list(std::vector<Value> items, bool tuple) {
    auto l = std::make_shared<ListObj>();
    l->items = std::move(items);
    l->is_tuple = tuple;
    return Value(l);
}

Value make_dict() { return Value(std::make_shared<DictObj>()); }

Value make_func(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
    auto f = std::make_shared<FuncObj>();
    f->name = std::move(name);
    f->call = std::move(fn);
    return Value(f);
}

const Value* DictObj::find(const std::string& key) const {
    auto it = string_index_.find(key);
    return it == string_index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* DictObj::find(const Value& key) const {
    if (key.is_string()) return find(key.str());
    for (const auto& [k, v] : entries_)
        if (!k.is_string() && py_equal(k, key)) return &v;
    return nullptr;
}

void DictObj::set(const Value& key, Value value) {
    if (key.is_string()) {
        auto it = string_index_.find(key.str());
        if (it != string_index_.end()) {
            entries_[it->second].second = std::move(value);
            return;
        }
        string_index_.emplace(key.str(), entries_.size());
        entries_.emplace_back(key, std::move(value));
        return;
    }
    for (auto& [k, v] : entries_) {
        if (!k.is_string() && py_equal(k, key)) {
            v = std::move(value);
            return;
        }
    }
    entries_.emplace_back(key, std::move(value));
}

void Value::fail_wrong_type(const char* wanted) const {
    fail(std::string("expected ") + wanted + ", got '" + type_name(*this) + "'");
}

std::string type_name(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined: return "Undefined";
        case Value::Kind::None: return "NoneType";
        case Value::Kind::Bool: return "bool";
        case Value::Kind::Int: return "int";
        case Value::Kind::Float: return "float";
        case Value::Kind::String: return "str";
        case Value::Kind::List: return v.list()->is_tuple ? "tuple" : "list";
        case Value::Kind::Dict: return "dict";
        case Value::Kind::Func: return "function";
        case Value::Kind::Namespace: return v.ns()->is_loop ? "LoopContext" : "Namespace";
    }
    return "object";
}

bool truthy(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined:
        case Value::Kind::None: return false;
        case Value::Kind::Bool: return v.as_bool();
        case Value::Kind::Int: return v.as_int() != 0;
        case Value::Kind::Float: return v.as_double() != 0.0;
        case Value::Kind::String: return !v.str().empty();
        case Value::Kind::List: return !v.list()->items.empty();
        case Value::Kind::Dict: return v.dict()->size() != 0;
        case Value::Kind::Func:
        case Value::Kind::Namespace: return true;
    }
    return false;
}

namespace {
void check_depth(int depth) {
    if (depth < 0) fail("max_recursion_depth exceeded: value nested too deeply");
}
}  // namespace

std::string repr(const Value& v, int max_depth) {
    check_depth(max_depth);
    switch (v.kind()) {
        case Value::Kind::Undefined: return "Undefined";
        case Value::Kind::String: return py_repr_string(v.str());
        case Value::Kind::List: {
            const auto& l = *v.list();
            std::string out = l.view ? std::string(l.view) + "([" : l.is_tuple ? "(" : "[";
            for (size_t i = 0; i < l.items.size(); ++i) {
                if (i) out += ", ";
                out += repr(l.items[i], max_depth - 1);
            }
            if (l.is_tuple && l.items.size() == 1) out += ",";
            out += l.view ? "])" : l.is_tuple ? ")" : "]";
            return out;
        }
        case Value::Kind::Dict: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, val] : v.dict()->entries()) {
                if (!first) out += ", ";
                first = false;
                out += repr(k, max_depth - 1) + ": " + repr(val, max_depth - 1);
            }
            return out + "}";
        }
        case Value::Kind::Func: return "<function " + v.func()->name + ">";
        case Value::Kind::Namespace: {
            if (v.ns()->is_loop) return "<LoopContext>";
            std::string out = "<Namespace {";
            bool first = true;
            for (const auto& [k, val] : v.ns()->attrs.entries()) {
                if (!first) out += ", ";
                first = false;
                out += repr(k, max_depth - 1) + ": " + repr(val, max_depth - 1);
            }
            return out + "}>";
        }
        default: return to_str(v, max_depth);
    }
}

std::string to_str(const Value& v, int max_depth) {
    switch (v.kind()) {
        case Value::Kind::Undefined: return "";
        case Value::Kind::None: return "None";
        case Value::Kind::Bool: return v.as_bool() ? "True" : "False";
        case Value::Kind::Int: return std::to_string(v.as_int());
        case Value::Kind::Float: return py_repr_float(v.as_double());
        case Value::Kind::String: return v.str();
        default: return repr(v, max_depth);
    }
}

bool py_equal(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Value::Kind::Undefined:
        case Value::Kind::None: return true;
        case Value::Kind::String: return a.str() == b.str();
        case Value::Kind::List: {
            const auto& x = *a.list();
            const auto& y = *b.list();
            if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
            for (size_t i = 0; i < x.items.size(); ++i)
                if (!py_equal(x.items[i], y.items[i])) return false;
            return true;
        }
        case Value::Kind::Dict: {
            if (a.dict()->size() != b.dict()->size()) return false;
            for (const auto& [k, val] : a.dict()->entries()) {
                const Value* other = b.dict()->find(k);
                if (!other || !py_equal(val, *other)) return false;
            }
            return true;
        }
        case Value::Kind::Func: return a.func() == b.func();
        case Value::Kind::Namespace: return a.ns() == b.ns();
        default: return false;
    }
}

int py_compare(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            double x = a.as_double(), y = b.as_double();
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
        int c = a.str().compare(b.str());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.is_list() && b.is_list() && a.list()->is_tuple == b.list()->is_tuple) {
        const auto& x = a.list()->items;
        const auto& y = b.list()->items;
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (py_equal(x[i], y[i])) continue;
            return py_compare(x[i], y[i]);
        }
        return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    fail("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

std::int64_t py_len(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined: return 0;
        case Value::Kind::String: return static_cast<std::int64_t>(utf8_length(v.str()));
        case Value::Kind::List: return static_cast<std::int64_t>(v.list()->items.size());
        case Value::Kind::Dict: return static_cast<std::int64_t>(v.dict()->size());
        default: fail("object of type '" + type_name(v) + "' has no len()");
    }
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined: return {};
        case Value::Kind::List: return v.list()->items;
        case Value::Kind::Dict: {
            std::vector<Value> keys;
            keys.reserve(v.dict()->size());
            for (const auto& e : v.dict()->entries()) keys.push_back(e.first);
            return keys;
        }
        case Value::Kind::String: {
            std::vector<Value> out;
            std::vector<char32_t> cps = utf8_decode(v.str());
            out.reserve(cps.size());
            for (char32_t c : cps) {
                std::string s;
                utf8_append(s, c);
                out.emplace_back(std::move(s));
            }
            return out;
        }
        default: fail("'" + type_name(v) + "' object is not iterable");
    }
}

Value from_json(const nlohmann::ordered_json& j, int max_depth) {
    check_depth(max_depth);
    using T = nlohmann::ordered_json::value_t;
    switch (j.type()) {
        case T::null: return Value::none();
        case T::boolean: return Value(j.get<bool>());
        case T::number_integer: return Value(j.get<std::int64_t>());
        case T::number_unsigned: {
            auto u = j.get<std::uint64_t>();
            if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return Value(static_cast<std::int64_t>(u));
            return Value(static_cast<double>(u));
        }
        case T::number_float: return Value(j.get<double>());
        case T::string: return Value(j.get<std::string>());
        case T::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& e : j) items.push_back(from_json(e, max_depth - 1));
            return make_list(std::move(items));
        }
        case T::object: {
            Value d = make_dict();
            for (auto it = j.begin(); it != j.end(); ++it) d.dict()->set(Value(it.key()), from_json(it.value(), max_depth - 1));
            return d;
        }
        default: fail("unsupported JSON value in template variables");
    }
}

namespace {
std::string json_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return py_repr_float(d);
}

std::string json_key(const Value& k) {
    switch (k.kind()) {
        case Value::Kind::String: return k.str();
        case Value::Kind::Bool: return k.as_bool() ? "true" : "false";
        case Value::Kind::Int: return std::to_string(k.as_int());
        case Value::Kind::Float: return json_float(k.as_double());
        case Value::Kind::None: return "null";
        default: fail("keys must be str, int, float, bool or None, not " + type_name(k));
    }
}

void dump(const Value& v, const JsonDumpOptions& o, int level, int max_depth, std::string& out) {
    check_depth(max_depth - level);
    if (out.size() > o.max_bytes) fail("max_output_bytes exceeded while building tojson output");
    const std::string item_sep = o.custom_separators ? o.item_sep : (o.indent >= 0 ? "," : ", ");
    const std::string key_sep = o.custom_separators ? o.key_sep : ": ";
    auto newline = [&](int lvl) {
        out.push_back('\n');
        size_t pad = static_cast<size_t>(o.indent) * static_cast<size_t>(lvl);
        if (pad > o.max_bytes || out.size() + pad > o.max_bytes) fail("max_output_bytes exceeded while building tojson output");
        out.append(pad, ' ');
    };
    switch (v.kind()) {
        case Value::Kind::None: out += "null"; return;
        case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
        case Value::Kind::Int: out += std::to_string(v.as_int()); return;
        case Value::Kind::Float: out += json_float(v.as_double()); return;
        case Value::Kind::String: out += json_quote(v.str(), o.ensure_ascii); return;
        case Value::Kind::List: {
            const auto& items = v.list()->items;
            if (items.empty()) {
                out += "[]";
                return;
            }
            out.push_back('[');
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += item_sep;
                if (o.indent >= 0) newline(level + 1);
                dump(items[i], o, level + 1, max_depth, out);
            }
            if (o.indent >= 0) newline(level);
            out.push_back(']');
            return;
        }
        case Value::Kind::Dict: {
            std::vector<const std::pair<Value, Value>*> entries;
            for (const auto& e : v.dict()->entries()) entries.push_back(&e);
            if (entries.empty()) {
                out += "{}";
                return;
            }
            if (o.sort_keys) {
                std::stable_sort(entries.begin(), entries.end(),
                                 [](auto* a, auto* b) { return py_compare(a->first, b->first) < 0; });
            }
            out.push_back('{');
            bool first = true;
            for (const auto* e : entries) {
                if (!first) out += item_sep;
                first = false;
                if (o.indent >= 0) newline(level + 1);
                out += json_quote(json_key(e->first), o.ensure_ascii);
                out += key_sep;
                dump(e->second, o, level + 1, max_depth, out);
            }
            if (o.indent >= 0) newline(level);
            out.push_back('}');
            return;
        }
        default: fail("Object of type " + type_name(v) + " is not JSON serializable");
    }
}
}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& options, int max_depth) {
    std::string out;
    dump(v, options, 0, max_depth, out);
    return out;
}

}  // namespace bonsai::tmpl
