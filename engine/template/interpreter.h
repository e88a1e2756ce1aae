#pragma once
// Tree-walking interpreter for parsed templates, plus the hooks the builtins (filters, tests, methods,
// globals) need: step accounting, size checks, calling values, attribute/item access.
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

#include "bonsai/chat_template.h"
#include "template/ast.h"
#include "template/value.h"

namespace bonsai::tmpl {

// A variable scope. Loops create one per iteration, macros one per call; `set` writes to the
// innermost frame and lookups walk outwards (jinja2's scoping as observed from templates).
struct Frame {
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Frame> parent;
    const Value* lookup(const std::string& name) const;
};
using FramePtr = std::shared_ptr<Frame>;

class Interpreter {
public:
    explicit Interpreter(const RenderOptions& options);

    // Renders `program` with `variables` as the outermost scope (over the globals).
    std::string render(const Program& program, const nlohmann::ordered_json& variables);

    // --- hooks for builtins ---
    const TemplateLimits& limits() const { return options_.limits; }
    int max_depth() const { return options_.limits.max_recursion_depth; }
    // Counts one evaluation step; throws when max_steps is exceeded.
    void step();
    // Throws when a value of `bytes` bytes (or items) would exceed max_output_bytes.
    void check_size(size_t bytes) const;
    std::tm now() const;

    Value call(const Value& callee, CallArgs& args);
    Value getattr(const Value& obj, const std::string& name);
    Value getitem(const Value& obj, const Value& key);
    Value apply_filter(const std::string& name, const Value& v, CallArgs& args);
    bool apply_test(const std::string& name, const Value& v, CallArgs& args);

private:
    enum class Flow { Normal, Break, Continue };

    RenderOptions options_;
    std::uint64_t steps_ = 0;
    int call_depth_ = 0;   // macro / caller nesting
    int eval_depth_ = 0;   // C++ recursion guard

    Flow exec_body(const Body& body, const FramePtr& frame, std::string& out);
    Flow exec(const Stmt& s, const FramePtr& frame, std::string& out);
    void exec_for(const Stmt& s, const FramePtr& frame, std::string& out);
    void exec_set(const Stmt& s, const FramePtr& frame);
    Value eval(const Expr& e, const FramePtr& frame, const Value* block_value = nullptr);
    Value eval_binary(const std::string& op, const Value& a, const Value& b);
    Value eval_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
    bool compare(const std::string& op, const Value& a, const Value& b);
    Value make_macro(const Stmt& s, const FramePtr& closure, bool is_caller);
    void append(std::string& out, const std::string& text) const;
};

// Python `item in container`.
bool contains(const Value& container, const Value& item);
// Fails with jinja2's UndefinedError message for an Undefined operand.
[[noreturn]] void fail_undefined(const Value& v);

}  // namespace bonsai::tmpl
