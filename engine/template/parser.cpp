// Recursive-descent parser for the Jinja2 subset; grammar and operator precedence follow jinja2 3.1's
// parser.py (condexpr < or < and < not < compare < +,- < ~ < *,/,//,% < ** < unary < postfix/filters/tests).
#include <set>

#include "template/ast.h"
#include "template/builtins.h"
#include "template/lexer.h"

namespace bonsai::tmpl {

namespace {

constexpr int kMaxNesting = 128;  // expression / block nesting; bounds parser and interpreter recursion

class Parser {
public:
    explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

    std::unique_ptr<Program> run() {
        auto prog = std::make_unique<Program>();
        std::string end_tag;
        prog->body = subparse({}, end_tag);
        return prog;
    }

private:
    std::vector<Token> t_;
    size_t i_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;

    struct DepthGuard {
        Parser& p;
        explicit DepthGuard(Parser& parser, const Token& at) : p(parser) {
            if (++p.depth_ > kMaxNesting) syntax_error("template nested too deeply", at.line, at.col);
        }
        ~DepthGuard() { --p.depth_; }
    };

    const Token& cur() const { return t_[i_]; }
    const Token& peek(size_t n = 1) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
    void next() {
        if (i_ + 1 < t_.size()) ++i_;
    }
    [[noreturn]] void error(const std::string& msg) const { syntax_error(msg, cur().line, cur().col); }
    [[noreturn]] void error_at(const std::string& msg, const Token& t) const { syntax_error(msg, t.line, t.col); }

    static std::string describe(const Token& t) {
        switch (t.type) {
            case TokType::Data: return "template data";
            case TokType::VarBegin: return "'{{'";
            case TokType::VarEnd: return "end of print statement";
            case TokType::BlockBegin: return "'{%'";
            case TokType::BlockEnd: return "end of statement block";
            case TokType::Name: return "'" + t.text + "'";
            case TokType::String: return "string";
            case TokType::Integer: return "integer";
            case TokType::Float: return "float";
            case TokType::Op: return "'" + t.text + "'";
            case TokType::End: return "end of template";
        }
        return "token";
    }

    bool is_op(const char* op) const { return cur().type == TokType::Op && cur().text == op; }
    bool is_name(const char* n) const { return cur().type == TokType::Name && cur().text == n; }
    bool skip_op(const char* op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool skip_name(const char* n) {
        if (!is_name(n)) return false;
        next();
        return true;
    }
    void expect_op(const char* op) {
        if (!skip_op(op)) error(std::string("expected '") + op + "', got " + describe(cur()));
    }
    std::string expect_name() {
        if (cur().type != TokType::Name) error("expected a name, got " + describe(cur()));
        std::string n = cur().text;
        next();
        return n;
    }
    void expect_block_end() {
        if (cur().type != TokType::BlockEnd) error("expected end of statement block, got " + describe(cur()));
        next();
    }

    ExprPtr node(ExprKind k, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->line = at.line;
        e->col = at.col;
        return e;
    }
    StmtPtr stmt(StmtKind k, const Token& at) {
        auto s = std::make_unique<Stmt>();
        s->kind = k;
        s->line = at.line;
        s->col = at.col;
        return s;
    }

    // ---- statements -------------------------------------------------------------------------

    // Parses statements until a block tag whose name is in `ends` (consumed up to and including the
    // tag name; the caller handles the rest of that tag). `found` receives the tag name.
    Body subparse(const std::set<std::string>& ends, std::string& found) {
        Body body;
        while (true) {
            const Token& t = cur();
            if (t.type == TokType::End) {
                if (!ends.empty()) {
                    std::string list;
                    for (const auto& e : ends) list += (list.empty() ? "'" : " or '") + e + "'";
                    error("unexpected end of template, expected " + list);
                }
                return body;
            }
            if (t.type == TokType::Data) {
                auto s = stmt(StmtKind::Output, t);
                s->text = t.text;
                body.push_back(std::move(s));
                next();
            } else if (t.type == TokType::VarBegin) {
                auto s = stmt(StmtKind::Print, t);
                next();
                s->expr = parse_tuple(true, {}, false);
                if (cur().type != TokType::VarEnd) error("expected end of print statement, got " + describe(cur()));
                next();
                body.push_back(std::move(s));
            } else if (t.type == TokType::BlockBegin) {
                next();
                if (cur().type != TokType::Name) error("expected a statement name, got " + describe(cur()));
                std::string name = cur().text;
                if (ends.count(name)) {
                    found = name;
                    next();
                    return body;
                }
                body.push_back(parse_statement());
            } else {
                error("unexpected " + describe(t));
            }
        }
    }

    StmtPtr parse_statement() {
        const Token at = cur();
        DepthGuard guard(*this, at);
        std::string name = at.text;
        next();
        if (name == "if") return parse_if(at);
        if (name == "for") return parse_for(at);
        if (name == "set") return parse_set(at);
        if (name == "macro") return parse_macro(at);
        if (name == "call") return parse_call_block(at);
        if (name == "filter") return parse_filter_block(at);
        if (name == "with") return parse_with(at);
        if (name == "generation") {
            auto s = stmt(StmtKind::Scope, at);
            expect_block_end();
            std::string found;
            s->body = subparse({"endgeneration"}, found);
            expect_block_end();
            return s;
        }
        if (name == "break" || name == "continue") {
            if (loop_depth_ == 0) error_at("'" + name + "' outside of a loop", at);
            auto s = stmt(name == "break" ? StmtKind::Break : StmtKind::Continue, at);
            expect_block_end();
            return s;
        }
        if (name == "include" || name == "import" || name == "from" || name == "extends" || name == "block")
            error_at("'" + name + "' is not supported: chat templates cannot load other templates", at);
        error_at("unknown tag '" + name + "'", at);
    }

    StmtPtr parse_if(const Token& at) {
        auto s = stmt(StmtKind::If, at);
        ExprPtr cond = parse_tuple(false, {}, false);
        expect_block_end();
        while (true) {
            std::string found;
            Body body = subparse({"elif", "else", "endif"}, found);
            s->branches.emplace_back(std::move(cond), std::move(body));
            if (found == "elif") {
                cond = parse_tuple(false, {}, false);
                expect_block_end();
                continue;
            }
            if (found == "else") {
                expect_block_end();
                s->else_body = subparse({"endif"}, found);
            }
            expect_block_end();
            return s;
        }
    }

    // Assignment target: name, "a, b" (or "(a, b)"), or with `allow_ns` "ns.attr".
    void parse_targets(Stmt& s, bool allow_ns, const char* stop_name) {
        bool paren = skip_op("(");
        while (true) {
            s.targets.push_back(expect_name());
            if (allow_ns && s.targets.size() == 1 && !paren && is_op(".")) {
                next();
                s.ns_attr = expect_name();
                return;
            }
            if (!is_op(",")) break;
            next();
            s.targets_tuple = true;
            if ((stop_name && is_name(stop_name)) || is_op("=") || is_op(")")) break;
        }
        if (paren) {
            expect_op(")");
            s.targets_tuple = true;
        }
    }

    StmtPtr parse_for(const Token& at) {
        auto s = stmt(StmtKind::For, at);
        parse_targets(*s, false, "in");
        if (!skip_name("in")) error("expected 'in', got " + describe(cur()));
        s->expr = parse_tuple(false, {"recursive"}, false);
        if (skip_name("if")) s->cond = parse_expression(true);
        if (is_name("recursive")) error("recursive for loops are not supported");
        expect_block_end();
        ++loop_depth_;
        std::string found;
        s->body = subparse({"endfor", "else"}, found);
        --loop_depth_;
        if (found == "else") {
            expect_block_end();
            s->else_body = subparse({"endfor"}, found);
        }
        expect_block_end();
        return s;
    }

    StmtPtr parse_set(const Token& at) {
        auto s = stmt(StmtKind::Set, at);
        parse_targets(*s, true, nullptr);
        if (skip_op("=")) {
            s->expr = parse_tuple(true, {}, false);
            expect_block_end();
            return s;
        }
        if (s->targets_tuple || !s->ns_attr.empty()) error("block set needs a single variable name");
        s->kind = StmtKind::SetBlock;
        if (is_op("|")) s->filter = parse_filter(nullptr, at);
        expect_block_end();
        std::string found;
        s->body = subparse({"endset"}, found);
        expect_block_end();
        return s;
    }

    void parse_params(Stmt& s) {
        expect_op("(");
        while (!is_op(")")) {
            if (!s.params.empty()) expect_op(",");
            if (is_op(")")) break;
            MacroParam p;
            p.name = expect_name();
            if (skip_op("=")) p.default_value = parse_expression(true);
            s.params.push_back(std::move(p));
        }
        next();
    }

    StmtPtr parse_macro(const Token& at) {
        auto s = stmt(StmtKind::Macro, at);
        s->name = expect_name();
        parse_params(*s);
        expect_block_end();
        int saved = loop_depth_;
        loop_depth_ = 0;
        std::string found;
        s->body = subparse({"endmacro"}, found);
        loop_depth_ = saved;
        if (cur().type == TokType::Name && cur().text == s->name) next();
        expect_block_end();
        return s;
    }

    StmtPtr parse_call_block(const Token& at) {
        auto s = stmt(StmtKind::CallBlock, at);
        if (is_op("(")) parse_params(*s);
        s->expr = parse_expression(true);
        if (s->expr->kind != ExprKind::Call) error_at("expected a call expression after 'call'", at);
        expect_block_end();
        int saved = loop_depth_;
        loop_depth_ = 0;
        std::string found;
        s->body = subparse({"endcall"}, found);
        loop_depth_ = saved;
        expect_block_end();
        return s;
    }

    StmtPtr parse_filter_block(const Token& at) {
        auto s = stmt(StmtKind::FilterBlock, at);
        s->filter = parse_filter(nullptr, at, true);
        expect_block_end();
        std::string found;
        s->body = subparse({"endfilter"}, found);
        expect_block_end();
        return s;
    }

    StmtPtr parse_with(const Token& at) {
        auto s = stmt(StmtKind::With, at);
        while (cur().type != TokType::BlockEnd) {
            if (!s->targets.empty()) expect_op(",");
            s->targets.push_back(expect_name());
            expect_op("=");
            s->values.push_back(parse_expression(true));
        }
        expect_block_end();
        std::string found;
        s->body = subparse({"endwith"}, found);
        expect_block_end();
        return s;
    }

    // ---- expressions ------------------------------------------------------------------------

    bool is_tuple_end(const std::set<std::string>& extra_end) const {
        const Token& t = cur();
        if (t.type == TokType::VarEnd || t.type == TokType::BlockEnd || t.type == TokType::End) return true;
        if (t.type == TokType::Op && t.text == ")") return true;
        return t.type == TokType::Name && extra_end.count(t.text);
    }

    ExprPtr parse_tuple(bool with_condexpr, const std::set<std::string>& extra_end, bool explicit_parens) {
        const Token at = cur();
        std::vector<ExprPtr> args;
        bool is_tuple = false;
        while (true) {
            if (!args.empty()) expect_op(",");
            if (is_tuple_end(extra_end)) break;
            args.push_back(parse_expression(with_condexpr));
            if (is_op(",")) is_tuple = true;
            else break;
        }
        if (!is_tuple) {
            if (!args.empty()) return std::move(args[0]);
            if (!explicit_parens) error("expected an expression, got " + describe(cur()));
        }
        auto e = node(ExprKind::Tuple, at);
        e->args = std::move(args);
        return e;
    }

    ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

    ExprPtr parse_condexpr() {
        const Token at = cur();
        DepthGuard guard(*this, at);
        ExprPtr expr1 = parse_or();
        while (skip_name("if")) {
            auto e = node(ExprKind::CondExpr, at);
            ExprPtr expr2 = parse_or();
            ExprPtr expr3;
            if (skip_name("else")) expr3 = parse_condexpr();
            e->args.push_back(std::move(expr2));
            e->args.push_back(std::move(expr1));
            e->args.push_back(std::move(expr3));
            expr1 = std::move(e);
        }
        return expr1;
    }

    ExprPtr binary(ExprKind k, const Token& at, ExprPtr l, ExprPtr r, std::string name = "") {
        auto e = node(k, at);
        e->name = std::move(name);
        e->args.push_back(std::move(l));
        e->args.push_back(std::move(r));
        return e;
    }

    ExprPtr parse_or() {
        const Token at = cur();
        ExprPtr left = parse_and();
        while (skip_name("or")) left = binary(ExprKind::Or, at, std::move(left), parse_and());
        return left;
    }

    ExprPtr parse_and() {
        const Token at = cur();
        ExprPtr left = parse_not();
        while (skip_name("and")) left = binary(ExprKind::And, at, std::move(left), parse_not());
        return left;
    }

    ExprPtr parse_not() {
        const Token at = cur();
        if (skip_name("not")) {
            DepthGuard guard(*this, at);
            auto e = node(ExprKind::Not, at);
            e->args.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        const Token at = cur();
        ExprPtr first = parse_math1();
        ExprPtr cmp;
        while (true) {
            std::string op;
            if (cur().type == TokType::Op &&
                (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
                 cur().text == ">" || cur().text == ">=")) {
                op = cur().text;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && peek().type == TokType::Name && peek().text == "in") {
                op = "notin";
                next();
                next();
            } else {
                break;
            }
            if (!cmp) {
                cmp = node(ExprKind::Compare, at);
                cmp->args.push_back(std::move(first));
            }
            cmp->ops.push_back(op);
            cmp->args.push_back(parse_math1());
        }
        return cmp ? std::move(cmp) : std::move(first);
    }

    ExprPtr parse_math1() {
        const Token at = cur();
        ExprPtr left = parse_concat();
        while (is_op("+") || is_op("-")) {
            std::string op = cur().text;
            next();
            left = binary(ExprKind::Binary, at, std::move(left), parse_concat(), op);
        }
        return left;
    }

    ExprPtr parse_concat() {
        const Token at = cur();
        ExprPtr first = parse_math2();
        if (!is_op("~")) return first;
        auto e = node(ExprKind::Concat, at);
        e->args.push_back(std::move(first));
        while (skip_op("~")) e->args.push_back(parse_math2());
        return e;
    }

    ExprPtr parse_math2() {
        const Token at = cur();
        ExprPtr left = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            std::string op = cur().text;
            next();
            left = binary(ExprKind::Binary, at, std::move(left), parse_pow(), op);
        }
        return left;
    }

    ExprPtr parse_pow() {
        const Token at = cur();
        ExprPtr left = parse_unary(true);
        while (skip_op("**")) left = binary(ExprKind::Binary, at, std::move(left), parse_unary(true), "**");
        return left;
    }

    ExprPtr parse_unary(bool with_filter) {
        const Token at = cur();
        DepthGuard guard(*this, at);
        ExprPtr n;
        if (is_op("-") || is_op("+")) {
            bool neg = is_op("-");
            next();
            n = node(neg ? ExprKind::Neg : ExprKind::Pos, at);
            n->args.push_back(parse_unary(false));
        } else {
            n = parse_primary();
        }
        n = parse_postfix(std::move(n));
        if (with_filter) n = parse_filter_expr(std::move(n));
        return n;
    }

    ExprPtr parse_primary() {
        const Token at = cur();
        DepthGuard guard(*this, at);
        if (at.type == TokType::Name) {
            next();
            auto e = node(ExprKind::Literal, at);
            if (at.text == "true" || at.text == "True") e->literal = Value(true);
            else if (at.text == "false" || at.text == "False") e->literal = Value(false);
            else if (at.text == "none" || at.text == "None") e->literal = Value::none();
            else {
                e->kind = ExprKind::Name;
                e->name = at.text;
            }
            return e;
        }
        if (at.type == TokType::String) {
            std::string s;
            while (cur().type == TokType::String) {
                s += cur().text;
                next();
            }
            auto e = node(ExprKind::Literal, at);
            e->literal = Value(std::move(s));
            return e;
        }
        if (at.type == TokType::Integer || at.type == TokType::Float) {
            next();
            auto e = node(ExprKind::Literal, at);
            e->literal = at.type == TokType::Integer ? Value(at.int_value) : Value(at.float_value);
            return e;
        }
        if (skip_op("(")) {
            ExprPtr e = parse_tuple(true, {}, true);
            expect_op(")");
            return e;
        }
        if (skip_op("[")) {
            auto e = node(ExprKind::List, at);
            while (!is_op("]")) {
                if (!e->args.empty()) expect_op(",");
                if (is_op("]")) break;
                e->args.push_back(parse_expression(true));
            }
            next();
            return e;
        }
        if (skip_op("{")) {
            auto e = node(ExprKind::Dict, at);
            while (!is_op("}")) {
                if (!e->args.empty()) expect_op(",");
                if (is_op("}")) break;
                e->args.push_back(parse_expression(true));
                expect_op(":");
                e->args.push_back(parse_expression(true));
            }
            next();
            return e;
        }
        error("unexpected " + describe(at));
    }

    ExprPtr parse_postfix(ExprPtr n) {
        while (true) {
            if (is_op(".") || is_op("[")) n = parse_subscript(std::move(n));
            else if (is_op("(")) n = parse_call(std::move(n));
            else return n;
        }
    }

    ExprPtr parse_filter_expr(ExprPtr n) {
        while (true) {
            if (is_op("|")) n = parse_filter(std::move(n), cur());
            else if (is_name("is")) n = parse_test(std::move(n));
            else if (is_op("(")) n = parse_call(std::move(n));
            else return n;
        }
    }

    ExprPtr parse_subscript(ExprPtr n) {
        const Token at = cur();
        DepthGuard guard(*this, at);
        if (skip_op(".")) {
            if (cur().type == TokType::Name) {
                auto e = node(ExprKind::GetAttr, at);
                e->name = cur().text;
                next();
                e->args.push_back(std::move(n));
                return e;
            }
            if (cur().type == TokType::Integer) {
                auto e = node(ExprKind::GetItem, at);
                auto idx = node(ExprKind::Literal, cur());
                idx->literal = Value(cur().int_value);
                next();
                e->args.push_back(std::move(n));
                e->args.push_back(std::move(idx));
                return e;
            }
            error("expected name or number after '.'");
        }
        expect_op("[");
        std::vector<ExprPtr> items;
        while (!is_op("]")) {
            if (!items.empty()) expect_op(",");
            items.push_back(parse_subscribed());
        }
        next();
        if (items.empty()) error_at("expected a subscript", at);
        if (items.size() > 1)
            for (const auto& it : items)
                if (it->kind == ExprKind::Slice) error_at("multi-dimensional slicing is not supported", at);
        auto e = node(items.size() == 1 && items[0]->kind == ExprKind::Slice ? ExprKind::Slice : ExprKind::GetItem, at);
        if (e->kind == ExprKind::Slice) {
            ExprPtr sl = std::move(items[0]);
            e->args.push_back(std::move(n));
            for (auto& a : sl->args) e->args.push_back(std::move(a));
            return e;
        }
        e->args.push_back(std::move(n));
        if (items.size() == 1) {
            e->args.push_back(std::move(items[0]));
        } else {
            auto tup = node(ExprKind::Tuple, at);
            tup->args = std::move(items);
            e->args.push_back(std::move(tup));
        }
        return e;
    }

    // One subscript item: an expression or a slice "a:b:c" (returned as a Slice node with 3 args).
    ExprPtr parse_subscribed() {
        const Token at = cur();
        ExprPtr start;
        if (!is_op(":")) {
            start = parse_expression(true);
            if (!is_op(":")) return start;
        }
        next();  // ':'
        auto sl = node(ExprKind::Slice, at);
        ExprPtr stop, step;
        if (!is_op("]") && !is_op(",") && !is_op(":")) stop = parse_expression(true);
        if (skip_op(":")) {
            if (!is_op("]") && !is_op(",")) step = parse_expression(true);
        }
        sl->args.push_back(std::move(start));
        sl->args.push_back(std::move(stop));
        sl->args.push_back(std::move(step));
        return sl;
    }

    void parse_call_args(Expr& e) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (is_op("*") || is_op("**")) error("*args and **kwargs in calls are not supported");
            if (cur().type == TokType::Name && peek().type == TokType::Op && peek().text == "=") {
                std::string key = cur().text;
                next();
                next();
                e.kwargs.emplace_back(key, parse_expression(true));
            } else {
                if (!e.kwargs.empty()) error("positional argument after keyword argument");
                e.args.push_back(parse_expression(true));
            }
        }
        next();
    }

    ExprPtr parse_call(ExprPtr callee) {
        const Token at = cur();
        DepthGuard guard(*this, at);
        auto e = node(ExprKind::Call, at);
        e->args.push_back(std::move(callee));
        parse_call_args(*e);
        return e;
    }

    std::string dotted_name() {
        std::string name = expect_name();
        while (is_op(".")) {
            next();
            name += "." + expect_name();
        }
        return name;
    }

    // "| f(args) | g ..." applied to `n` (null for filter blocks). `start_inline`: no leading '|'.
    ExprPtr parse_filter(ExprPtr n, const Token& at, bool start_inline = false) {
        DepthGuard guard(*this, at);
        while (is_op("|") || start_inline) {
            if (!start_inline) next();
            start_inline = false;
            const Token name_tok = cur();
            auto e = node(ExprKind::Filter, name_tok);
            e->name = dotted_name();
            if (!find_filter(e->name)) error_at("no filter named '" + e->name + "'", name_tok);
            e->args.push_back(std::move(n));
            if (is_op("(")) parse_call_args(*e);
            n = std::move(e);
        }
        return n;
    }

    ExprPtr parse_test(ExprPtr n) {
        const Token at = cur();
        DepthGuard guard(*this, at);
        next();  // 'is'
        auto e = node(ExprKind::Test, at);
        if (skip_name("not")) e->negated = true;
        const Token name_tok = cur();
        e->name = dotted_name();
        if (!find_test(e->name)) error_at("no test named '" + e->name + "'", name_tok);
        e->args.push_back(std::move(n));
        const Token& c = cur();
        if (is_op("(")) {
            parse_call_args(*e);
        } else if ((c.type == TokType::Name || c.type == TokType::String || c.type == TokType::Integer ||
                    c.type == TokType::Float || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
            if (is_name("is")) error("you cannot chain multiple tests with 'is'");
            ExprPtr arg = parse_primary();
            arg = parse_postfix(std::move(arg));
            e->args.push_back(std::move(arg));
        }
        return e;
    }
};

}  // namespace

std::unique_ptr<Program> parse_template(std::string_view source) {
    Parser p(tokenize(source));
    return p.run();
}

}  // namespace bonsai::tmpl
