#pragma once
// The interpreter's dynamic value: a model of the Python objects a Jinja2 template sees
// (jinja2 Undefined, None, bool, int, float, str, list/tuple, dict, callables, namespace()).
// Lists, dicts and namespaces are shared by reference like Python objects; everything else is a value.
// Operations follow Python semantics (truthiness, ==, <, str(), repr()) because chat templates
// print lists and compare values and must match Python's output byte for byte.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "bonsai/chat_template.h"

namespace bonsai::tmpl {

class Interpreter;
struct Value;
struct ListObj;
struct DictObj;
struct FuncObj;
struct NamespaceObj;

// jinja2's default Undefined. `hint` is the message used when it is misused ("'x' is undefined").
struct Undefined {
    std::string hint;
};
struct NoneType {};

using ListPtr = std::shared_ptr<ListObj>;
using DictPtr = std::shared_ptr<DictObj>;
using FuncPtr = std::shared_ptr<FuncObj>;
using NamespacePtr = std::shared_ptr<NamespaceObj>;

struct Value {
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Func, Namespace };
    std::variant<Undefined, NoneType, bool, std::int64_t, double, std::string, ListPtr, DictPtr, FuncPtr, NamespacePtr> v;

    Value() : v(Undefined{}) {}
    Value(NoneType n) : v(n) {}
    Value(bool b) : v(b) {}
    Value(std::int64_t i) : v(i) {}
    Value(int i) : v(static_cast<std::int64_t>(i)) {}
    Value(double d) : v(d) {}
    Value(std::string s) : v(std::move(s)) {}
    Value(const char* s) : v(std::string(s)) {}
    Value(ListPtr l) : v(std::move(l)) {}
    Value(DictPtr d) : v(std::move(d)) {}
    Value(FuncPtr f) : v(std::move(f)) {}
    Value(NamespacePtr n) : v(std::move(n)) {}
    static Value undefined(std::string hint) { Value x; x.v = Undefined{std::move(hint)}; return x; }
    static Value none() { return Value(NoneType{}); }

    Kind kind() const { return static_cast<Kind>(v.index()); }
    bool is_undefined() const { return kind() == Kind::Undefined; }
    bool is_none() const { return kind() == Kind::None; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_int() const { return kind() == Kind::Int; }
    bool is_float() const { return kind() == Kind::Float; }
    bool is_string() const { return kind() == Kind::String; }
    bool is_list() const { return kind() == Kind::List; }  // list or tuple
    bool is_dict() const { return kind() == Kind::Dict; }
    bool is_func() const { return kind() == Kind::Func; }
    bool is_namespace() const { return kind() == Kind::Namespace; }
    // Python's numbers.Number: bool, int, float.
    bool is_number() const { return is_bool() || is_int() || is_float(); }
    // Python int (bool counts, as in Python).
    bool is_integral() const { return is_bool() || is_int(); }

    // Typed access. A value of another type is a template type error (TemplateError naming both
    // types), never std::bad_variant_access: a builtin handed, say, a string where it counts on an int
    // must fail like Python's TypeError, not escape the interpreter's error type.
    bool as_bool() const { return get<bool>("bool"); }
    std::int64_t as_int() const { return is_bool() ? (get<bool>("bool") ? 1 : 0) : get<std::int64_t>("int"); }
    double as_double() const { return is_float() ? get<double>("float") : static_cast<double>(as_int()); }
    const std::string& str() const { return get<std::string>("str"); }
    const ListPtr& list() const { return get<ListPtr>("list"); }
    const DictPtr& dict() const { return get<DictPtr>("dict"); }
    const FuncPtr& func() const { return get<FuncPtr>("callable"); }
    const NamespacePtr& ns() const { return get<NamespacePtr>("namespace"); }
    const std::string& undefined_hint() const { return get<Undefined>("undefined").hint; }

private:
    template <typename T>
    const T& get(const char* wanted) const {
        if (const T* p = std::get_if<T>(&v)) return *p;
        fail_wrong_type(wanted);
    }
    [[noreturn]] void fail_wrong_type(const char* wanted) const;
};

struct ListObj {
    std::vector<Value> items;
    bool is_tuple = false;  // tuples print as (a, b) and come from `a, b` literals and dict items
    const char* view = nullptr;  // "dict_items" / "dict_keys" / "dict_values": repr like Python's views
};

// An insertion-ordered dict (like Python's). String keys are indexed; other keys are searched.
class DictObj {
public:
    const Value* find(const Value& key) const;
    const Value* find(const std::string& key) const;
    void set(const Value& key, Value value);
    size_t size() const { return entries_.size(); }
    const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }

private:
    std::vector<std::pair<Value, Value>> entries_;
    std::unordered_map<std::string, size_t> string_index_;
};

// Arguments of a call: positional then keyword, in source order.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

// A callable: builtin global, bound method, macro or loop.cycle.
struct FuncObj {
    std::string name;
    std::function<Value(Interpreter&, CallArgs&)> call;
};

// namespace() objects (attributes assignable with {% set ns.x = ... %}) and the `loop` object.
struct NamespaceObj {
    DictObj attrs;
    bool is_loop = false;
};

// Throws TemplateError for a runtime error; the interpreter adds the template line.
[[noreturn]] void fail(const std::string& message);

Value make_list(std::vector<Value> items, bool tuple = false);
Value make_dict();
Value make_func(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);

// Python type name, for error messages ("str", "int", "NoneType", "list", ...).
std::string type_name(const Value& v);
// Python truthiness (Undefined is false).
bool truthy(const Value& v);
// Python str(): what {{ x }} prints. Undefined prints as "". `depth` bounds nesting.
std::string to_str(const Value& v, int max_depth);
// Python repr().
std::string repr(const Value& v, int max_depth);
// Python ==.
bool py_equal(const Value& a, const Value& b);
// Python <, as -1/0/1; throws TypeError-like TemplateError for unorderable types.
int py_compare(const Value& a, const Value& b);
// Length for len()/|length: str (code points), list, dict, namespace attrs; Undefined = 0.
std::int64_t py_len(const Value& v);
// Iterates like Python iter(): list items, dict keys, str code points; Undefined is empty.
// Throws for None, numbers and callables ("'NoneType' object is not iterable").
std::vector<Value> iterate(const Value& v);

// JSON input -> Value. Throws when nesting exceeds max_depth.
Value from_json(const nlohmann::ordered_json& j, int max_depth);
// json.dumps(v, ensure_ascii, indent, separators, sort_keys) as Python writes it.
struct JsonDumpOptions {
    bool ensure_ascii = false;
    int indent = -1;  // -1 = None (single line)
    std::string item_sep;  // empty = Python default for the indent mode
    std::string key_sep;
    bool custom_separators = false;
    bool sort_keys = false;
    size_t max_bytes = static_cast<size_t>(-1);  // fail once the output grows past this
};
std::string json_dumps(const Value& v, const JsonDumpOptions& options, int max_depth);

}  // namespace bonsai::tmpl
