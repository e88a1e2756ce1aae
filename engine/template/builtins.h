#pragma once
// Builtin filters, tests, object methods and global functions of the template language.
#include <initializer_list>
#include <optional>
#include <string>

#include "template/interpreter.h"
#include "template/value.h"

namespace bonsai::tmpl {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);
using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

// nullptr when unknown. Unknown names are rejected when the template is parsed, as jinja2 does.
FilterFn find_filter(const std::string& name);
TestFn find_test(const std::string& name);

// A bound method of a str / dict / list (e.g. "abc".startswith), or nullopt when `obj` has no such
// method. Methods that mutate (list.append, dict.update, ...) come back as an Undefined explaining
// that the sandbox blocks them, exactly like jinja2's ImmutableSandboxedEnvironment.
std::optional<Value> find_method(const Value& obj, const std::string& name);

// The global functions: range, dict, namespace, raise_exception, strftime_now.
void install_globals(Frame& globals);

// Binds call arguments to parameter names like a Python signature (positional, then keywords).
// Throws for unknown keywords or too many positional arguments.
class BoundArgs {
public:
    BoundArgs(const CallArgs& args, std::initializer_list<const char*> names, const std::string& fname);
    const Value* get(size_t i) const { return given_[i] ? &values_[i] : nullptr; }
    Value get_or(size_t i, Value def) const { return given_[i] ? values_[i] : std::move(def); }

private:
    std::vector<Value> values_;
    std::vector<bool> given_;
};

// Python int() / float() conversions used by filters; nullopt when the value does not convert.
std::optional<std::int64_t> to_int(const Value& v, int base);
std::optional<double> to_float(const Value& v);
// Python str.split(sep, maxsplit) (sep == nullptr: runs of whitespace).
std::vector<std::string> py_split(const std::string& s, const std::string* sep, std::int64_t maxsplit, bool from_right);
// Python str.splitlines(keepends).
std::vector<std::string> py_splitlines(const std::string& s, bool keepends);
// Python `fmt % args` (printf-style formatting).
std::string py_percent_format(Interpreter& in, const std::string& fmt, const Value& args);

}  // namespace bonsai::tmpl
