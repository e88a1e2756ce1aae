// Tree-walking evaluation of templates (see interpreter.h). Semantics follow jinja2 3.1 running in
// Hugging Face's ImmutableSandboxedEnvironment with the default Undefined.
#include "template/interpreter.h"

#include <cmath>
#include <limits>

#include "template/builtins.h"
#include "template/text.h"

namespace bonsai::tmpl {

namespace {
// C++ recursion bound for nested evaluation (independent of the user-visible limits: it only keeps
// the native stack safe; the parser already bounds nesting per template).
constexpr int kMaxEvalDepth = 4000;

struct DepthCounter {
    int& d;
    explicit DepthCounter(int& depth) : d(depth) {
        if (++d > kMaxEvalDepth) {
            --d;
            fail("max_recursion_depth exceeded: evaluation nested too deeply");
        }
    }
    ~DepthCounter() { --d; }
};

[[noreturn]] void rethrow_with_line(const TemplateError& e, int line) {
    if (e.line() != 0 || e.raised_by_template()) throw e;
    throw TemplateError("template error at line " + std::to_string(line) + ": " + e.what(), line, 0, false);
}
}  // namespace

const Value* Frame::lookup(const std::string& name) const {
    for (const Frame* f = this; f; f = f->parent.get()) {
        auto it = f->vars.find(name);
        if (it != f->vars.end()) return &it->second;
    }
    return nullptr;
}

[[noreturn]] void fail_undefined(const Value& v) {
    const std::string& hint = v.is_undefined() ? v.undefined_hint() : std::string();
    fail(hint.empty() ? "value is undefined" : hint);
}

Interpreter::Interpreter(const RenderOptions& options) : options_(options) {}

void Interpreter::step() {
    if (++steps_ > options_.limits.max_steps)
        fail("max_steps exceeded: the template ran more than " + std::to_string(options_.limits.max_steps) + " steps");
}

void Interpreter::check_size(size_t bytes) const {
    if (bytes > options_.limits.max_output_bytes)
        fail("max_output_bytes exceeded: a value or the output grew past " +
             std::to_string(options_.limits.max_output_bytes) + " bytes");
}

void Interpreter::append(std::string& out, const std::string& text) const {
    check_size(out.size() + text.size());
    out += text;
}

std::tm Interpreter::now() const {
    if (options_.clock) return options_.clock();
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm;
}

std::string Interpreter::render(const Program& program, const nlohmann::ordered_json& variables) {
    auto globals = std::make_shared<Frame>();
    install_globals(*globals);
    auto root = std::make_shared<Frame>();
    root->parent = globals;
    if (!variables.is_null()) {
        if (!variables.is_object()) fail("template variables must be a JSON object");
        for (auto it = variables.begin(); it != variables.end(); ++it)
            root->vars[it.key()] = from_json(it.value(), max_depth());
    }
    std::string out;
    exec_body(program.body, root, out);
    return out;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const FramePtr& frame, std::string& out) {
    for (const auto& s : body) {
        Flow f = exec(*s, frame, out);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const FramePtr& frame, std::string& out) {
    step();
    DepthCounter guard(eval_depth_);
    try {
        switch (s.kind) {
            case StmtKind::Output: append(out, s.text); return Flow::Normal;
            case StmtKind::Print: {
                Value v = eval(*s.expr, frame);
                if (v.is_string()) append(out, v.str());
                else append(out, to_str(v, max_depth()));
                return Flow::Normal;
            }
            case StmtKind::If: {
                for (const auto& [cond, body] : s.branches)
                    if (truthy(eval(*cond, frame))) return exec_body(body, frame, out);
                return exec_body(s.else_body, frame, out);
            }
            case StmtKind::For: exec_for(s, frame, out); return Flow::Normal;
            case StmtKind::Set: exec_set(s, frame); return Flow::Normal;
            case StmtKind::SetBlock: {
                auto inner = std::make_shared<Frame>();
                inner->parent = frame;
                std::string text;
                exec_body(s.body, inner, text);
                Value v(std::move(text));
                if (s.filter) v = eval(*s.filter, frame, &v);
                frame->vars[s.targets[0]] = std::move(v);
                return Flow::Normal;
            }
            case StmtKind::Macro: frame->vars[s.name] = make_macro(s, frame, false); return Flow::Normal;
            case StmtKind::CallBlock: {
                const Expr& call = *s.expr;
                Value callee = eval(*call.args[0], frame);
                CallArgs args;
                for (size_t i = 1; i < call.args.size(); ++i) args.positional.push_back(eval(*call.args[i], frame));
                for (const auto& [k, e] : call.kwargs) args.keyword.emplace_back(k, eval(*e, frame));
                args.keyword.emplace_back("caller", make_macro(s, frame, true));
                Value r = this->call(callee, args);
                append(out, to_str(r, max_depth()));
                return Flow::Normal;
            }
            case StmtKind::FilterBlock: {
                auto inner = std::make_shared<Frame>();
                inner->parent = frame;
                std::string text;
                exec_body(s.body, inner, text);
                Value v(std::move(text));
                append(out, to_str(eval(*s.filter, frame, &v), max_depth()));
                return Flow::Normal;
            }
            case StmtKind::With: {
                auto inner = std::make_shared<Frame>();
                inner->parent = frame;
                for (size_t i = 0; i < s.targets.size(); ++i) inner->vars[s.targets[i]] = eval(*s.values[i], frame);
                return exec_body(s.body, inner, out);
            }
            case StmtKind::Scope: {
                auto inner = std::make_shared<Frame>();
                inner->parent = frame;
                return exec_body(s.body, inner, out);
            }
            case StmtKind::Break: return Flow::Break;
            case StmtKind::Continue: return Flow::Continue;
        }
    } catch (const TemplateError& e) {
        rethrow_with_line(e, s.line);
    }
    return Flow::Normal;
}

namespace {
void bind_targets(Frame& f, const Stmt& s, const Value& item) {
    if (!s.targets_tuple) {
        f.vars[s.targets[0]] = item;
        return;
    }
    std::vector<Value> parts = iterate(item);
    if (parts.size() != s.targets.size())
        fail(parts.size() > s.targets.size() ? "too many values to unpack (expected " + std::to_string(s.targets.size()) + ")"
                                             : "not enough values to unpack (expected " + std::to_string(s.targets.size()) +
                                                   ", got " + std::to_string(parts.size()) + ")");
    for (size_t i = 0; i < parts.size(); ++i) f.vars[s.targets[i]] = parts[i];
}
}  // namespace

void Interpreter::exec_for(const Stmt& s, const FramePtr& frame, std::string& out) {
    Value seq = eval(*s.expr, frame);
    if (seq.is_namespace() || seq.is_func() || seq.is_none() || seq.is_number())
        fail("'" + type_name(seq) + "' object is not iterable");
    std::vector<Value> items = iterate(seq);
    if (s.cond) {
        std::vector<Value> kept;
        for (auto& item : items) {
            step();
            auto f = std::make_shared<Frame>();
            f->parent = frame;
            bind_targets(*f, s, item);
            if (truthy(eval(*s.cond, f))) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        auto f = std::make_shared<Frame>();
        f->parent = frame;
        exec_body(s.else_body, f, out);
        return;
    }
    // loop.cycle needs the current index; it reads it through this shared cell.
    auto index_cell = std::make_shared<std::int64_t>(0);
    Value cycle = make_func("cycle", [index_cell](Interpreter&, CallArgs& a) -> Value {
        if (!a.keyword.empty()) fail("loop.cycle() takes no keyword arguments");
        if (a.positional.empty()) fail("no items for cycling given");
        return a.positional[static_cast<size_t>(*index_cell) % a.positional.size()];
    });
    auto last_changed = std::make_shared<std::optional<std::vector<Value>>>();
    Value changed = make_func("changed", [last_changed](Interpreter&, CallArgs& a) -> Value {
        if (*last_changed && last_changed->value().size() == a.positional.size()) {
            bool same = true;
            for (size_t i = 0; i < a.positional.size(); ++i)
                if (!py_equal((*last_changed)->at(i), a.positional[i])) same = false;
            if (same) return Value(false);
        }
        *last_changed = a.positional;
        return Value(true);
    });
    const auto n = static_cast<std::int64_t>(items.size());
    for (std::int64_t i = 0; i < n; ++i) {
        step();
        *index_cell = i;
        auto f = std::make_shared<Frame>();
        f->parent = frame;
        const Value& item = items[static_cast<size_t>(i)];
        bind_targets(*f, s, item);
        auto loop = std::make_shared<NamespaceObj>();
        loop->is_loop = true;
        DictObj& a = loop->attrs;
        a.set(Value("index"), Value(i + 1));
        a.set(Value("index0"), Value(i));
        a.set(Value("revindex"), Value(n - i));
        a.set(Value("revindex0"), Value(n - i - 1));
        a.set(Value("first"), Value(i == 0));
        a.set(Value("last"), Value(i == n - 1));
        a.set(Value("length"), Value(n));
        a.set(Value("depth"), Value(1));
        a.set(Value("depth0"), Value(0));
        a.set(Value("previtem"), i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item"));
        a.set(Value("nextitem"), i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item"));
        a.set(Value("cycle"), cycle);
        a.set(Value("changed"), changed);
        f->vars["loop"] = Value(loop);
        Flow fl = exec_body(s.body, f, out);
        if (fl == Flow::Break) break;
    }
}

void Interpreter::exec_set(const Stmt& s, const FramePtr& frame) {
    Value v = eval(*s.expr, frame);
    if (!s.ns_attr.empty()) {
        const Value* target = frame->lookup(s.targets[0]);
        if (!target || !target->is_namespace() || target->ns()->is_loop)
            fail("cannot assign attribute on non-namespace object");
        target->ns()->attrs.set(Value(s.ns_attr), std::move(v));
        return;
    }
    if (!s.targets_tuple) {
        frame->vars[s.targets[0]] = std::move(v);
        return;
    }
    bind_targets(*frame, s, v);
}

Value Interpreter::make_macro(const Stmt& s, const FramePtr& closure, bool is_caller) {
    const Stmt* def = &s;
    std::weak_ptr<Frame> weak = closure;  // a macro stored in its own frame must not keep it alive
    FramePtr strong = is_caller ? closure : nullptr;
    std::string name = is_caller ? "caller" : s.name;
    return make_func(name, [def, weak, strong, name](Interpreter& in, CallArgs& args) -> Value {
        FramePtr parent = strong ? strong : weak.lock();
        if (!parent) fail("macro '" + name + "' called after its template finished");
        if (in.call_depth_ >= in.max_depth())
            fail("max_recursion_depth exceeded: macro calls nested deeper than " + std::to_string(in.max_depth()));
        auto f = std::make_shared<Frame>();
        f->parent = parent;
        const auto& params = def->params;
        if (args.positional.size() > params.size())
            fail("macro '" + name + "' takes not more than " + std::to_string(params.size()) + " argument(s)");
        std::vector<bool> given(params.size(), false);
        for (size_t i = 0; i < args.positional.size(); ++i) {
            f->vars[params[i].name] = args.positional[i];
            given[i] = true;
        }
        for (auto& [k, v] : args.keyword) {
            if (k == "caller" && !strong) {
                f->vars["caller"] = v;
                continue;
            }
            size_t idx = params.size();
            for (size_t i = 0; i < params.size(); ++i)
                if (params[i].name == k) idx = i;
            if (idx == params.size()) fail("macro '" + name + "' takes no keyword argument '" + k + "'");
            if (given[idx]) fail("macro '" + name + "' got multiple values for argument '" + k + "'");
            f->vars[k] = v;
            given[idx] = true;
        }
        for (size_t i = 0; i < params.size(); ++i) {
            if (given[i]) continue;
            f->vars[params[i].name] = params[i].default_value
                                          ? in.eval(*params[i].default_value, f)
                                          : Value::undefined("parameter '" + params[i].name + "' was not provided");
        }
        ++in.call_depth_;
        std::string out;
        try {
            in.exec_body(def->body, f, out);
        } catch (...) {
            --in.call_depth_;
            throw;
        }
        --in.call_depth_;
        return Value(std::move(out));
    });
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
    if (callee.is_undefined()) fail_undefined(callee);
    if (!callee.is_func()) fail("'" + type_name(callee) + "' object is not callable");
    step();
    return callee.func()->call(*this, args);
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
    switch (obj.kind()) {
        case Value::Kind::Undefined: fail_undefined(obj);
        case Value::Kind::Dict: {
            if (auto m = find_method(obj, name)) return *m;
            if (const Value* v = obj.dict()->find(name)) return *v;
            return Value::undefined("'dict object' has no attribute '" + name + "'");
        }
        case Value::Kind::Namespace: {
            if (const Value* v = obj.ns()->attrs.find(name)) return *v;
            return Value::undefined("'" + type_name(obj) + " object' has no attribute '" + name + "'");
        }
        default: {
            if (auto m = find_method(obj, name)) return *m;
            return Value::undefined("'" + type_name(obj) + " object' has no attribute '" + name + "'");
        }
    }
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
    switch (obj.kind()) {
        case Value::Kind::Undefined: fail_undefined(obj);
        case Value::Kind::Dict: {
            if (const Value* v = obj.dict()->find(key)) return *v;
            if (key.is_string()) {
                if (auto m = find_method(obj, key.str())) return *m;
            }
            return Value::undefined("'dict object' has no attribute " + repr(key, 4));
        }
        case Value::Kind::List:
        case Value::Kind::String: {
            if (key.is_integral()) {
                std::int64_t n = py_len(obj);
                std::int64_t i = key.as_int();
                if (i < 0) i += n;
                if (i < 0 || i >= n) return Value::undefined(type_name(obj) + " object has no element " + std::to_string(key.as_int()));
                if (obj.is_list()) return obj.list()->items[static_cast<size_t>(i)];
                if (is_ascii(obj.str())) return Value(obj.str().substr(static_cast<size_t>(i), 1));
                std::vector<char32_t> cps = utf8_decode(obj.str());
                return Value(utf8_encode(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
            }
            if (key.is_string()) return getattr(obj, key.str());
            return Value::undefined(type_name(obj) + " object has no element " + repr(key, 4));
        }
        default:
            if (key.is_string()) return getattr(obj, key.str());
            return Value::undefined("'" + type_name(obj) + " object' has no attribute " + repr(key, 4));
    }
}

Value Interpreter::apply_filter(const std::string& name, const Value& v, CallArgs& args) {
    FilterFn f = find_filter(name);
    if (!f) fail("no filter named '" + name + "'");
    step();
    return f(*this, v, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& v, CallArgs& args) {
    TestFn t = find_test(name);
    if (!t) fail("no test named '" + name + "'");
    step();
    return t(*this, v, args);
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
        case Value::Kind::Undefined: return false;
        case Value::Kind::String:
            if (!item.is_string())
                fail("'in <string>' requires string as left operand, not " + type_name(item));
            return container.str().find(item.str()) != std::string::npos;
        case Value::Kind::List:
            for (const auto& x : container.list()->items)
                if (py_equal(x, item)) return true;
            return false;
        case Value::Kind::Dict: return container.dict()->find(item) != nullptr;
        default: fail("argument of type '" + type_name(container) + "' is not iterable");
    }
}

bool Interpreter::compare(const std::string& op, const Value& a, const Value& b) {
    if (op == "==") return py_equal(a, b);
    if (op == "!=") return !py_equal(a, b);
    if (op == "in") return contains(b, a);
    if (op == "notin") return !contains(b, a);
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    int c;
    try {
        c = py_compare(a, b);
    } catch (const TemplateError&) {
        fail("'" + op + "' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
    }
    if (op == "<") return c < 0;
    if (op == "<=") return c <= 0;
    if (op == ">") return c > 0;
    return c >= 0;
}

namespace {
void check_overflow(bool overflow) {
    if (overflow) fail("integer overflow (values beyond 64 bits are not supported)");
}

double py_fmod(double a, double b) {
    double m = std::fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    return m;
}
}  // namespace

Value Interpreter::eval_binary(const std::string& op, const Value& a, const Value& b) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    auto type_error = [&]() -> Value {
        fail("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
    };
    const bool nums = a.is_number() && b.is_number();
    const bool ints = a.is_integral() && b.is_integral();
    if (op == "+") {
        if (ints) {
            std::int64_t r = 0;
            check_overflow(__builtin_add_overflow(a.as_int(), b.as_int(), &r));
            return Value(r);
        }
        if (nums) return Value(a.as_double() + b.as_double());
        if (a.is_string() && b.is_string()) {
            check_size(a.str().size() + b.str().size());
            return Value(a.str() + b.str());
        }
        if (a.is_list() && b.is_list() && a.list()->is_tuple == b.list()->is_tuple) {
            check_size(a.list()->items.size() + b.list()->items.size());
            std::vector<Value> items = a.list()->items;
            items.insert(items.end(), b.list()->items.begin(), b.list()->items.end());
            return make_list(std::move(items), a.list()->is_tuple);
        }
        return type_error();
    }
    if (op == "-") {
        if (ints) {
            std::int64_t r = 0;
            check_overflow(__builtin_sub_overflow(a.as_int(), b.as_int(), &r));
            return Value(r);
        }
        if (nums) return Value(a.as_double() - b.as_double());
        return type_error();
    }
    if (op == "*") {
        if (ints) {
            std::int64_t r = 0;
            check_overflow(__builtin_mul_overflow(a.as_int(), b.as_int(), &r));
            return Value(r);
        }
        if (nums) return Value(a.as_double() * b.as_double());
        const Value* seq = a.is_integral() ? &b : &a;
        const Value* cnt = a.is_integral() ? &a : &b;
        if (cnt->is_integral() && (seq->is_string() || seq->is_list())) {
            std::int64_t n = std::max<std::int64_t>(0, cnt->as_int());
            size_t unit = seq->is_string() ? seq->str().size() : seq->list()->items.size();
            if (unit != 0 && static_cast<std::uint64_t>(n) > options_.limits.max_output_bytes / unit) check_size(static_cast<size_t>(-1));
            check_size(unit * static_cast<size_t>(n));
            if (seq->is_string()) {
                std::string r;
                r.reserve(unit * static_cast<size_t>(n));
                for (std::int64_t i = 0; i < n; ++i) r += seq->str();
                return Value(std::move(r));
            }
            std::vector<Value> items;
            for (std::int64_t i = 0; i < n; ++i)
                items.insert(items.end(), seq->list()->items.begin(), seq->list()->items.end());
            return make_list(std::move(items), seq->list()->is_tuple);
        }
        return type_error();
    }
    if (op == "/") {
        if (!nums) return type_error();
        if (b.as_double() == 0) fail("division by zero");
        return Value(a.as_double() / b.as_double());
    }
    if (op == "//") {
        if (!nums) return type_error();
        if (ints) {
            if (b.as_int() == 0) fail("integer division or modulo by zero");
            std::int64_t x = a.as_int(), y = b.as_int();
            if (x == std::numeric_limits<std::int64_t>::min() && y == -1) fail("integer overflow");
            std::int64_t q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
            return Value(q);
        }
        if (b.as_double() == 0) fail("float floor division by zero");
        return Value(std::floor(a.as_double() / b.as_double()));
    }
    if (op == "%") {
        if (a.is_string()) return Value(py_percent_format(*this, a.str(), b));
        if (!nums) return type_error();
        if (ints) {
            if (b.as_int() == 0) fail("integer division or modulo by zero");
            std::int64_t x = a.as_int(), y = b.as_int();
            if (y == -1) return Value(std::int64_t{0});
            std::int64_t m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) m += y;
            return Value(m);
        }
        if (b.as_double() == 0) fail("float modulo");
        return Value(py_fmod(a.as_double(), b.as_double()));
    }
    if (op == "**") {
        if (!nums) return type_error();
        if (ints && b.as_int() >= 0) {
            std::int64_t base = a.as_int(), e = b.as_int(), r = 1;
            while (e > 0) {
                if (e & 1) check_overflow(__builtin_mul_overflow(r, base, &r));
                e >>= 1;
                if (e > 0) check_overflow(__builtin_mul_overflow(base, base, &base));
            }
            return Value(r);
        }
        if (a.as_double() == 0 && b.as_double() < 0) fail("0.0 cannot be raised to a negative power");
        return Value(std::pow(a.as_double(), b.as_double()));
    }
    return type_error();
}

Value Interpreter::eval_slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
    if (obj.is_undefined()) fail_undefined(obj);
    if (!obj.is_list() && !obj.is_string()) return Value::undefined("'" + type_name(obj) + "' object is not subscriptable");
    auto as_index = [](const Value& v) -> std::optional<std::int64_t> {
        if (v.is_undefined() || v.is_none()) return std::nullopt;
        if (!v.is_integral()) fail("slice indices must be integers or None");
        return v.as_int();
    };
    std::optional<std::int64_t> start = as_index(start_v), stop = as_index(stop_v), stp = as_index(step_v);
    std::int64_t step = stp.value_or(1);
    if (step == 0) fail("slice step cannot be zero");
    std::vector<char32_t> cps;
    const bool ascii = obj.is_string() && is_ascii(obj.str());
    if (obj.is_string() && !ascii) cps = utf8_decode(obj.str());
    const std::int64_t len = obj.is_list() ? static_cast<std::int64_t>(obj.list()->items.size())
                             : ascii       ? static_cast<std::int64_t>(obj.str().size())
                                           : static_cast<std::int64_t>(cps.size());
    const std::int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? len - 1 : len;
    auto adjust = [&](std::optional<std::int64_t> v, std::int64_t def) {
        if (!v) return def;
        std::int64_t x = *v;
        if (x < 0) {
            x += len;
            if (x < lower) x = lower;
        } else if (x > upper) {
            x = upper;
        }
        return x;
    };
    std::int64_t b = adjust(start, step < 0 ? upper : lower);
    std::int64_t e = adjust(stop, step < 0 ? lower : upper);
    if (step == std::numeric_limits<std::int64_t>::min()) step = -std::numeric_limits<std::int64_t>::max();
    std::vector<size_t> idx;
    for (std::int64_t i = b; step > 0 ? i < e : i > e;) {
        idx.push_back(static_cast<size_t>(i));
        if (step > 0 ? e - i <= step : i - e <= -step) break;  // next index would pass the end (no overflow)
        i += step;
    }
    if (obj.is_list()) {
        std::vector<Value> items;
        items.reserve(idx.size());
        for (size_t i : idx) items.push_back(obj.list()->items[i]);
        return make_list(std::move(items), obj.list()->is_tuple);
    }
    std::string out;
    for (size_t i : idx) {
        if (ascii) out.push_back(obj.str()[i]);
        else utf8_append(out, cps[i]);
    }
    return Value(std::move(out));
}

Value Interpreter::eval(const Expr& e, const FramePtr& frame, const Value* block_value) {
    step();
    DepthCounter guard(eval_depth_);
    switch (e.kind) {
        case ExprKind::Literal: return e.literal;
        case ExprKind::Name: {
            if (const Value* v = frame->lookup(e.name)) return *v;
            return Value::undefined("'" + e.name + "' is undefined");
        }
        case ExprKind::GetAttr: return getattr(eval(*e.args[0], frame, block_value), e.name);
        case ExprKind::GetItem: {
            Value obj = eval(*e.args[0], frame, block_value);
            return getitem(obj, eval(*e.args[1], frame, block_value));
        }
        case ExprKind::Slice: {
            if (e.args.size() != 4) fail("invalid slice");
            Value obj = eval(*e.args[0], frame, block_value);
            Value a = e.args[1] ? eval(*e.args[1], frame) : Value::none();
            Value b = e.args[2] ? eval(*e.args[2], frame) : Value::none();
            Value c = e.args[3] ? eval(*e.args[3], frame) : Value::none();
            return eval_slice(obj, a, b, c);
        }
        case ExprKind::Call: {
            Value callee = eval(*e.args[0], frame, block_value);
            CallArgs args;
            for (size_t i = 1; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], frame));
            for (const auto& [k, x] : e.kwargs) args.keyword.emplace_back(k, eval(*x, frame));
            return call(callee, args);
        }
        case ExprKind::Filter: {
            Value subject = e.args[0] ? eval(*e.args[0], frame, block_value) : (block_value ? *block_value : Value());
            CallArgs args;
            for (size_t i = 1; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], frame));
            for (const auto& [k, x] : e.kwargs) args.keyword.emplace_back(k, eval(*x, frame));
            return apply_filter(e.name, subject, args);
        }
        case ExprKind::Test: {
            Value subject = eval(*e.args[0], frame, block_value);
            CallArgs args;
            for (size_t i = 1; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], frame));
            for (const auto& [k, x] : e.kwargs) args.keyword.emplace_back(k, eval(*x, frame));
            bool r = apply_test(e.name, subject, args);
            return Value(e.negated ? !r : r);
        }
        case ExprKind::Neg:
        case ExprKind::Pos: {
            Value v = eval(*e.args[0], frame, block_value);
            if (v.is_undefined()) fail_undefined(v);
            if (!v.is_number()) fail("bad operand type for unary " + std::string(e.kind == ExprKind::Neg ? "-" : "+") + ": '" + type_name(v) + "'");
            if (e.kind == ExprKind::Pos) return v.is_bool() ? Value(v.as_int()) : v;
            if (v.is_float()) return Value(-v.as_double());
            if (v.as_int() == std::numeric_limits<std::int64_t>::min()) fail("integer overflow");
            return Value(-v.as_int());
        }
        case ExprKind::Not: return Value(!truthy(eval(*e.args[0], frame, block_value)));
        case ExprKind::And: {
            Value l = eval(*e.args[0], frame, block_value);
            return truthy(l) ? eval(*e.args[1], frame, block_value) : l;
        }
        case ExprKind::Or: {
            Value l = eval(*e.args[0], frame, block_value);
            return truthy(l) ? l : eval(*e.args[1], frame, block_value);
        }
        case ExprKind::Binary: {
            Value l = eval(*e.args[0], frame, block_value);
            Value r = eval(*e.args[1], frame, block_value);
            return eval_binary(e.name, l, r);
        }
        case ExprKind::Concat: {
            std::string out;
            for (const auto& a : e.args) {
                Value v = eval(*a, frame, block_value);
                append(out, v.is_string() ? v.str() : to_str(v, max_depth()));
            }
            return Value(std::move(out));
        }
        case ExprKind::Compare: {
            Value left = eval(*e.args[0], frame, block_value);
            for (size_t i = 0; i < e.ops.size(); ++i) {
                Value right = eval(*e.args[i + 1], frame, block_value);
                if (!compare(e.ops[i], left, right)) return Value(false);
                left = std::move(right);
            }
            return Value(true);
        }
        case ExprKind::CondExpr: {
            if (truthy(eval(*e.args[0], frame, block_value))) return eval(*e.args[1], frame, block_value);
            if (e.args[2]) return eval(*e.args[2], frame, block_value);
            return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
        }
        case ExprKind::List:
        case ExprKind::Tuple: {
            std::vector<Value> items;
            items.reserve(e.args.size());
            for (const auto& a : e.args) items.push_back(eval(*a, frame, block_value));
            return make_list(std::move(items), e.kind == ExprKind::Tuple);
        }
        case ExprKind::Dict: {
            Value d = make_dict();
            for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
                Value k = eval(*e.args[i], frame, block_value);
                if (k.is_list() && !k.list()->is_tuple) fail("unhashable type: 'list'");
                if (k.is_dict()) fail("unhashable type: 'dict'");
                d.dict()->set(k, eval(*e.args[i + 1], frame, block_value));
            }
            return d;
        }
        case ExprKind::BlockValue: return block_value ? *block_value : Value();
    }
    return Value();
}

}  // namespace bonsai::tmpl
