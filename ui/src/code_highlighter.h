#pragma once
// A small syntax highlighter for the code blocks of chat answers: C/C++, Python, JavaScript/TypeScript,
// shell and JSON. It is a single-pass lexer (no grammar), which is enough for colouring: comments,
// strings, numbers, keywords, preprocessor lines, shell variables and JSON keys. The result is HTML
// (a <pre> of coloured <span>s) for a QML Text in RichText format.
#include <QList>
#include <QString>

namespace bonsai::ui {

enum class CodeLanguage { plain, cpp, python, javascript, shell, json };

// What a span of code is.
enum class TokenKind { keyword, string, comment, number, preprocessor, variable, key, literal };

struct CodeToken {
    int start = 0;      // offset in the code (QChar units)
    int length = 0;
    TokenKind kind = TokenKind::keyword;
};

// Colours per token kind, as #rrggbb; two built-in palettes follow the app theme.
struct HighlightPalette {
    QString keyword, string, comment, number, preprocessor, variable, key, literal, text;
    static HighlightPalette light();
    static HighlightPalette dark();
};

// The language named by a Markdown fence's info string ("cpp", "c++", "py", "ts", "bash", "json", ...);
// plain for anything unknown or empty.
CodeLanguage languageFromFenceTag(const QString& tag);

// The coloured spans of `code`, in order, not overlapping. Plain text between them is not listed.
QList<CodeToken> tokenize(const QString& code, CodeLanguage language);

// `code` as HTML: <pre> with every special character escaped and every token in a coloured span.
QString highlightToHtml(const QString& code, CodeLanguage language, const HighlightPalette& palette);

}  // namespace bonsai::ui
