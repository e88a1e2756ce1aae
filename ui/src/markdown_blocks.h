#pragma once
// Splits a chat answer's Markdown into prose and fenced code blocks, so the chat view can render prose
// with Qt's Markdown support and code blocks with our own highlighter and a copy button each.
// Works on partial text while an answer streams: an unclosed fence is a code block running to the end.
#include <QList>
#include <QString>
#include <QVariantList>

namespace bonsai::ui {

struct MarkdownBlock {
    enum class Kind { prose, code };
    Kind kind = Kind::prose;
    QString text;      // prose: the Markdown; code: the code without the fences
    QString language;  // code: the fence's info string (first word), may be empty
    bool closed = true;  // code: false while its closing fence has not arrived yet
};

// CommonMark fences: up to three spaces, then three or more ` or ~; the block closes at a line with at
// least as many of the same character and nothing else.
QList<MarkdownBlock> splitMarkdown(const QString& markdown);

// The blocks as QML-friendly maps: {kind: "prose"|"code", text, language, html (code: highlighted HTML)}.
QVariantList markdownBlocksForQml(const QString& markdown, bool dark);

}  // namespace bonsai::ui
