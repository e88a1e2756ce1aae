#pragma once
// Template lexer with jinja2's whitespace rules as Hugging Face configures them:
// trim_blocks (drop the first newline after a block or comment tag), lstrip_blocks (drop spaces and
// tabs before a block or comment tag that starts a line), '-' / '+' modifiers on tags, raw blocks,
// newline normalisation and removal of one trailing newline (keep_trailing_newline = false).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bonsai::tmpl {

enum class TokType {
    Data,        // literal template text
    VarBegin,    // {{
    VarEnd,      // }}
    BlockBegin,  // {%
    BlockEnd,    // %}
    Name,
    String,      // text holds the decoded value
    Integer,
    Float,
    Op,          // operator / punctuation, text holds it
    End          // end of input
};

struct Token {
    TokType type = TokType::End;
    std::string text;
    std::int64_t int_value = 0;
    double float_value = 0;
    int line = 1;
    int col = 1;
};

// Splits `source` into tokens. Throws TemplateError with line/column on malformed input.
std::vector<Token> tokenize(std::string_view source);

// "template syntax error at line L, column C: msg" as a TemplateError.
[[noreturn]] void syntax_error(const std::string& msg, int line, int col);

}  // namespace bonsai::tmpl
