#pragma once
// Syntax tree of a parsed template. Two generic node types (expression, statement) with a kind tag
// keep the parser and interpreter small; which fields a kind uses is listed next to each kind.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/value.h"

namespace bonsai::tmpl {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
    Literal,    // literal
    Name,       // name
    GetAttr,    // args[0].name
    GetItem,    // args[0][args[1]]
    Slice,      // args[0][args[1]:args[2]:args[3]] (null = omitted)
    Call,       // args[0](args[1..], kwargs)
    Filter,     // args[0] | name(args[1..], kwargs); args[0] null in {% filter %} / {% set %} blocks
    Test,       // args[0] is [not] name(args[1..], kwargs); negated
    Neg,        // -args[0]
    Pos,        // +args[0]
    Not,        // not args[0]
    And,        // args[0] and args[1]
    Or,         // args[0] or args[1]
    Binary,     // args[0] <name> args[1] for + - * / // % **
    Concat,     // args joined with ~
    Compare,    // args[0] ops[0] args[1] ops[1] args[2] ... (ops: == != < <= > >= in notin)
    CondExpr,   // args[1] if args[0] else args[2] (args[2] may be null)
    List,       // [args...]
    Tuple,      // (args...)
    Dict,       // {args[0]: args[1], args[2]: args[3], ...}
    BlockValue  // the rendered body of a filter/set block (placeholder operand)
};

struct Expr {
    ExprKind kind = ExprKind::Literal;
    int line = 0;
    int col = 0;
    Value literal;
    std::string name;
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    std::vector<std::string> ops;
    bool negated = false;
};

enum class StmtKind {
    Output,      // text
    Print,       // {{ expr }}
    If,          // branches (cond, body) ..., else_body
    For,         // targets in expr [if cond] body [else else_body]
    Set,         // targets = expr; ns_attr set for {% set ns.attr = ... %}
    SetBlock,    // {% set targets[0] | filter %} body {% endset %}; filter = Filter chain or null
    Macro,       // name(params) body
    CallBlock,   // {% call(params) expr %} body: expr is a Call; body becomes `caller`
    FilterBlock, // {% filter ... %} body: filter chain applied to the body
    With,        // {% with targets[i] = values[i] %} body
    Break,
    Continue,
    Scope        // body rendered as is (the generation tag)
};

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // may be null
};

struct Stmt {
    StmtKind kind = StmtKind::Output;
    int line = 0;
    int col = 0;
    std::string text;
    std::string name;
    ExprPtr expr;
    ExprPtr cond;
    ExprPtr filter;
    std::vector<std::string> targets;
    bool targets_tuple = false;  // "a, b" target: unpack
    std::string ns_attr;         // for {% set ns.attr = ... %}
    std::vector<ExprPtr> values;
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body;
    Body else_body;
    std::vector<MacroParam> params;
};

// The parsed template: its top-level statements.
struct Program {
    Body body;
};

// Parses tokens into a Program. Throws TemplateError with line/column.
std::unique_ptr<Program> parse_template(std::string_view source);

}  // namespace bonsai::tmpl
