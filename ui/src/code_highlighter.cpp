#include "code_highlighter.h"

#include <QSet>

namespace bonsai::ui {

namespace {

const QSet<QString>& keywords(CodeLanguage lang) {
    static const QSet<QString> cpp = {
        "alignas", "alignof", "auto", "bool", "break", "case", "catch", "char", "class", "const", "constexpr",
        "consteval", "constinit", "continue", "co_await", "co_return", "co_yield", "decltype", "default",
        "delete", "do", "double", "else", "enum", "explicit", "export", "extern", "float", "for", "friend",
        "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "operator",
        "private", "protected", "public", "register", "return", "short", "signed", "sizeof", "static",
        "static_assert", "static_cast", "dynamic_cast", "reinterpret_cast", "const_cast", "struct", "switch",
        "template", "this", "throw", "try", "typedef", "typename", "union", "unsigned", "using", "virtual",
        "void", "volatile", "while", "override", "final", "concept", "requires", "size_t", "uint8_t",
        "int8_t", "uint16_t", "int16_t", "uint32_t", "int32_t", "uint64_t", "int64_t"};
    static const QSet<QString> python = {
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
        "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not",
        "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "self", "print"};
    static const QSet<QString> js = {
        "async", "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
        "delete", "do", "else", "enum", "export", "extends", "finally", "for", "function", "if", "import",
        "in", "instanceof", "interface", "let", "new", "of", "return", "static", "super", "switch", "this",
        "throw", "try", "type", "typeof", "var", "void", "while", "with", "yield", "implements", "private",
        "protected", "public", "readonly", "namespace", "declare", "abstract", "as", "from", "keyof",
        "string", "number", "boolean", "any", "unknown", "never"};
    static const QSet<QString> shell = {
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "in",
        "function", "return", "exit", "export", "local", "readonly", "shift", "set", "unset", "echo", "cd",
        "source", "trap", "eval", "exec", "break", "continue", "sudo"};
    static const QSet<QString> none;
    switch (lang) {
    case CodeLanguage::cpp: return cpp;
    case CodeLanguage::python: return python;
    case CodeLanguage::javascript: return js;
    case CodeLanguage::shell: return shell;
    default: return none;
    }
}

const QSet<QString>& literals(CodeLanguage lang) {
    static const QSet<QString> cpp = {"true", "false", "nullptr", "NULL"};
    static const QSet<QString> python = {"True", "False", "None"};
    static const QSet<QString> js = {"true", "false", "null", "undefined", "NaN", "Infinity"};
    static const QSet<QString> json = {"true", "false", "null"};
    static const QSet<QString> none;
    switch (lang) {
    case CodeLanguage::cpp: return cpp;
    case CodeLanguage::python: return python;
    case CodeLanguage::javascript: return js;
    case CodeLanguage::json: return json;
    default: return none;
    }
}

bool isIdentStart(QChar c) { return c.isLetter() || c == u'_' || c == u'$'; }
bool isIdentPart(QChar c) { return c.isLetterOrNumber() || c == u'_' || c == u'$'; }

// Index just past a quoted string starting at `i` (the quote), honouring backslash escapes. Strings that
// do not close run to the end of the line (or, for multi-line kinds, the code).
int skipString(const QString& s, int i, QChar quote, bool multiLine) {
    int j = i + 1;
    while (j < s.size()) {
        const QChar c = s[j];
        if (c == u'\\' && j + 1 < s.size()) {
            j += 2;
            continue;
        }
        if (c == quote) return j + 1;
        if (c == u'\n' && !multiLine) return j;
        ++j;
    }
    return j;
}

int skipToLineEnd(const QString& s, int i) {
    const int nl = s.indexOf(u'\n', i);
    return nl < 0 ? int(s.size()) : nl;
}

int skipNumber(const QString& s, int i) {
    int j = i;
    if (s[j] == u'0' && j + 1 < s.size() && (s[j + 1] == u'x' || s[j + 1] == u'X' || s[j + 1] == u'b')) j += 2;
    while (j < s.size() && (s[j].isLetterOrNumber() || s[j] == u'.' || s[j] == u'_' || s[j] == u'\'' ||
                            ((s[j] == u'+' || s[j] == u'-') && (s[j - 1] == u'e' || s[j - 1] == u'E'))))
        ++j;
    return j;
}

}  // namespace

HighlightPalette HighlightPalette::light() {
    return {"#0033b3", "#067d17", "#8c8c8c", "#1750eb", "#9e880d", "#871094", "#871094", "#0033b3", "#080808"};
}

HighlightPalette HighlightPalette::dark() {
    return {"#cf8e6d", "#6aab73", "#7a7e85", "#2aacb8", "#b3ae60", "#c77dbb", "#c77dbb", "#cf8e6d", "#bcbec4"};
}

CodeLanguage languageFromFenceTag(const QString& tag) {
    const QString t = tag.trimmed().toLower().section(u' ', 0, 0);
    static const QSet<QString> cpp = {"c", "cpp", "c++", "cc", "cxx", "h", "hpp", "hxx", "objc", "cuda"};
    static const QSet<QString> py = {"py", "python", "python3", "py3"};
    static const QSet<QString> js = {"js", "javascript", "ts", "typescript", "jsx", "tsx", "mjs", "cjs", "node"};
    static const QSet<QString> sh = {"sh", "bash", "shell", "zsh", "console", "shellsession", "ksh"};
    static const QSet<QString> json = {"json", "jsonc", "json5"};
    if (cpp.contains(t)) return CodeLanguage::cpp;
    if (py.contains(t)) return CodeLanguage::python;
    if (js.contains(t)) return CodeLanguage::javascript;
    if (sh.contains(t)) return CodeLanguage::shell;
    if (json.contains(t)) return CodeLanguage::json;
    return CodeLanguage::plain;
}

QList<CodeToken> tokenize(const QString& s, CodeLanguage lang) {
    QList<CodeToken> out;
    if (lang == CodeLanguage::plain) return out;
    const auto add = [&out](int start, int end, TokenKind k) {
        if (end > start) out.push_back({start, end - start, k});
    };
    const bool cStyleComments = lang == CodeLanguage::cpp || lang == CodeLanguage::javascript;
    const bool hashComments = lang == CodeLanguage::python || lang == CodeLanguage::shell;
    bool lineStart = true;  // only whitespace so far on this line (for C preprocessor lines)
    int i = 0;
    const int n = int(s.size());
    while (i < n) {
        const QChar c = s[i];
        if (c == u'\n') {
            lineStart = true;
            ++i;
            continue;
        }
        if (c.isSpace()) {
            ++i;
            continue;
        }
        const bool wasLineStart = lineStart;
        lineStart = false;
        const QChar next = i + 1 < n ? s[i + 1] : QChar();
        if (cStyleComments && c == u'/' && next == u'/') {
            const int e = skipToLineEnd(s, i);
            add(i, e, TokenKind::comment);
            i = e;
        } else if (cStyleComments && c == u'/' && next == u'*') {
            const int close = s.indexOf(QStringLiteral("*/"), i + 2);
            const int e = close < 0 ? n : close + 2;
            add(i, e, TokenKind::comment);
            i = e;
        } else if (hashComments && c == u'#' && (lang != CodeLanguage::shell || i == 0 || s[i - 1].isSpace())) {
            const int e = skipToLineEnd(s, i);
            add(i, e, TokenKind::comment);
            i = e;
        } else if (lang == CodeLanguage::cpp && c == u'#' && wasLineStart) {
            // A preprocessor directive: the directive word; the rest of the line is lexed normally.
            int e = i + 1;
            while (e < n && (s[e] == u' ' || s[e] == u'\t')) ++e;
            while (e < n && s[e].isLetter()) ++e;
            add(i, e, TokenKind::preprocessor);
            i = e;
            // #include <header>: the header name reads as a string.
            int j = i;
            while (j < n && (s[j] == u' ' || s[j] == u'\t')) ++j;
            if (j < n && s[j] == u'<') {
                const int close = s.indexOf(u'>', j);
                const int eol = skipToLineEnd(s, j);
                if (close > 0 && close < eol) {
                    add(j, close + 1, TokenKind::string);
                    i = close + 1;
                }
            }
        } else if (lang == CodeLanguage::python && (c == u'"' || c == u'\'') && i + 2 < n && s[i + 1] == c &&
                   s[i + 2] == c) {
            const QString triple(3, c);
            const int close = s.indexOf(triple, i + 3);
            const int e = close < 0 ? n : close + 3;
            add(i, e, TokenKind::string);
            i = e;
        } else if (c == u'"' || (c == u'\'' && lang != CodeLanguage::json) ||
                   (c == u'`' && (lang == CodeLanguage::javascript || lang == CodeLanguage::shell))) {
            const bool multi = c == u'`' || (lang == CodeLanguage::shell && c != u'`');
            const int e = (lang == CodeLanguage::shell && c == u'\'') ? [&] {
                const int close = s.indexOf(u'\'', i + 1);  // no escapes inside single quotes in sh
                return close < 0 ? n : close + 1;
            }()
                                                                     : skipString(s, i, c, multi);
            TokenKind kind = TokenKind::string;
            if (lang == CodeLanguage::json && c == u'"') {
                int j = e;
                while (j < n && s[j].isSpace()) ++j;
                if (j < n && s[j] == u':') kind = TokenKind::key;
            }
            add(i, e, kind);
            i = e;
        } else if (lang == CodeLanguage::shell && c == u'$') {
            int e = i + 1;
            if (e < n && s[e] == u'{') {
                const int close = s.indexOf(u'}', e);
                e = close < 0 ? skipToLineEnd(s, e) : close + 1;
            } else if (e < n && (s[e].isDigit() || s[e] == u'?' || s[e] == u'@' || s[e] == u'#' || s[e] == u'$')) {
                ++e;
            } else {
                while (e < n && (s[e].isLetterOrNumber() || s[e] == u'_')) ++e;
            }
            add(i, e, TokenKind::variable);
            i = e;
        } else if (c.isDigit() || (c == u'-' && lang == CodeLanguage::json && next.isDigit())) {
            const int e = skipNumber(s, c == u'-' ? i + 1 : i);
            // A digit glued to a word (a shell file name like 2to3) is not a number.
            if (i > 0 && isIdentPart(s[i - 1]))
                i = e;
            else {
                add(i, e, TokenKind::number);
                i = e;
            }
        } else if (isIdentStart(c)) {
            int e = i + 1;
            while (e < n && (isIdentPart(s[e]) || (lang == CodeLanguage::shell && s[e] == u'-'))) ++e;
            const QString word = s.mid(i, e - i);
            if (keywords(lang).contains(word))
                add(i, e, TokenKind::keyword);
            else if (literals(lang).contains(word))
                add(i, e, TokenKind::literal);
            else if (lang == CodeLanguage::python && i > 0 && s[i - 1] == u'@')
                add(i - 1, e, TokenKind::preprocessor);  // a decorator
            i = e;
        } else {
            ++i;
        }
    }
    return out;
}

QString highlightToHtml(const QString& code, CodeLanguage language, const HighlightPalette& palette) {
    const auto colourOf = [&palette](TokenKind k) -> const QString& {
        switch (k) {
        case TokenKind::keyword: return palette.keyword;
        case TokenKind::string: return palette.string;
        case TokenKind::comment: return palette.comment;
        case TokenKind::number: return palette.number;
        case TokenKind::preprocessor: return palette.preprocessor;
        case TokenKind::variable: return palette.variable;
        case TokenKind::key: return palette.key;
        case TokenKind::literal: return palette.literal;
        }
        return palette.text;
    };
    QString html;
    html.reserve(code.size() * 2 + 64);
    html += QStringLiteral("<pre style=\"color:%1\">").arg(palette.text);
    int pos = 0;
    for (const CodeToken& t : tokenize(code, language)) {
        if (t.start < pos) continue;  // defensive: tokens never overlap
        html += code.mid(pos, t.start - pos).toHtmlEscaped();
        html += QStringLiteral("<span style=\"color:%1\">").arg(colourOf(t.kind));
        html += code.mid(t.start, t.length).toHtmlEscaped();
        html += QStringLiteral("</span>");
        pos = t.start + t.length;
    }
    html += code.mid(pos).toHtmlEscaped();
    html += QStringLiteral("</pre>");
    return html;
}

}  // namespace bonsai::ui
