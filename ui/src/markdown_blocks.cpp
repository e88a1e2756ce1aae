#include "markdown_blocks.h"

#include <QVariantMap>

#include "code_highlighter.h"

namespace bonsai::ui {

namespace {

struct Fence {
    QChar ch;
    int length = 0;
    QString info;
};

// A fence line: up to three spaces of indent, then 3+ backticks or tildes. Backtick fences may not have
// a backtick in their info string (CommonMark).
bool parseFence(const QString& line, Fence* f) {
    int i = 0;
    while (i < line.size() && i < 3 && line[i] == u' ') ++i;
    if (i >= line.size() || (line[i] != u'`' && line[i] != u'~')) return false;
    const QChar ch = line[i];
    int j = i;
    while (j < line.size() && line[j] == ch) ++j;
    if (j - i < 3) return false;
    const QString info = line.mid(j).trimmed();
    if (ch == u'`' && info.contains(u'`')) return false;
    f->ch = ch;
    f->length = j - i;
    f->info = info.section(u' ', 0, 0);
    return true;
}

bool closesFence(const QString& line, const Fence& open) {
    Fence f;
    return parseFence(line, &f) && f.ch == open.ch && f.length >= open.length && f.info.isEmpty() &&
           line.trimmed().size() == f.length;
}

}  // namespace

QList<MarkdownBlock> splitMarkdown(const QString& markdown) {
    QList<MarkdownBlock> blocks;
    const QStringList lines = markdown.split(u'\n');
    QStringList prose;
    const auto flushProse = [&] {
        QString text = prose.join(u'\n');
        prose.clear();
        if (text.trimmed().isEmpty()) return;
        blocks.push_back({MarkdownBlock::Kind::prose, text, {}, true});
    };
    for (int i = 0; i < lines.size(); ++i) {
        Fence open;
        if (!parseFence(lines[i], &open)) {
            prose << lines[i];
            continue;
        }
        flushProse();
        QStringList code;
        bool closed = false;
        int j = i + 1;
        for (; j < lines.size(); ++j) {
            if (closesFence(lines[j], open)) {
                closed = true;
                break;
            }
            code << lines[j];
        }
        blocks.push_back({MarkdownBlock::Kind::code, code.join(u'\n'), open.info, closed});
        i = j;  // the closing fence line (or past the end)
    }
    flushProse();
    return blocks;
}

QVariantList markdownBlocksForQml(const QString& markdown, bool dark) {
    QVariantList out;
    const HighlightPalette palette = dark ? HighlightPalette::dark() : HighlightPalette::light();
    for (const MarkdownBlock& b : splitMarkdown(markdown)) {
        QVariantMap m;
        m.insert(QStringLiteral("kind"), b.kind == MarkdownBlock::Kind::code ? QStringLiteral("code")
                                                                             : QStringLiteral("prose"));
        m.insert(QStringLiteral("text"), b.text);
        m.insert(QStringLiteral("language"), b.language);
        if (b.kind == MarkdownBlock::Kind::code)
            m.insert(QStringLiteral("html"), highlightToHtml(b.text, languageFromFenceTag(b.language), palette));
        out.push_back(m);
    }
    return out;
}

}  // namespace bonsai::ui
