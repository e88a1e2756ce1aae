#include "core/title.h"

#include <QRegularExpression>
#include <QStringList>

namespace bonsai::core {

namespace {
constexpr int kMaxTitle = 60;
constexpr int kFallbackWords = 6;
constexpr int kFallbackChars = 48;

bool hasLetterOrDigit(const QString& s) {
    for (const QChar c : s)
        if (c.isLetterOrNumber()) return true;
    return false;
}
}  // namespace

QString titleInstruction() {
    return QStringLiteral(
        "Write a short title (at most six words) for this conversation. Answer with the title only, "
        "without quotes or punctuation at the end.");
}

QString cleanTitle(const QString& modelText) {
    QString t = modelText;
    // A thinking model may open with its reasoning; an unfinished block leaves nothing.
    static const QRegularExpression think(QStringLiteral("<think>.*?(</think>|$)"),
                                          QRegularExpression::DotMatchesEverythingOption);
    t.remove(think);
    QString line;
    for (const QString& l : t.split(QLatin1Char('\n'))) {
        if (!l.trimmed().isEmpty()) {
            line = l.trimmed();
            break;
        }
    }
    static const QRegularExpression label(QStringLiteral("^(title|titre|titel)\\s*:\\s*"),
                                          QRegularExpression::CaseInsensitiveOption);
    line.remove(label);
    static const QString strip = QStringLiteral("\"'`*_#«»“”‘’ \t");
    while (!line.isEmpty() && strip.contains(line.front())) line.remove(0, 1);
    static const QString trailing = QStringLiteral("\"'`*_«»“”‘’ \t.!?:;,");
    while (!line.isEmpty() && trailing.contains(line.back())) line.chop(1);
    line = line.simplified();
    if (line.size() > kMaxTitle) {
        line.truncate(kMaxTitle);
        const qsizetype space = line.lastIndexOf(QLatin1Char(' '));
        if (space > kMaxTitle / 2) line.truncate(space);
        line = line.trimmed() + QStringLiteral("…");
    }
    return hasLetterOrDigit(line) ? line : QString();
}

QString fallbackTitle(const QString& userText) {
    const QStringList words = userText.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (words.isEmpty()) return QString();
    QString out;
    int used = 0;
    for (const QString& w : words) {
        if (used == kFallbackWords) break;
        const QString next = out.isEmpty() ? w : out + QLatin1Char(' ') + w;
        if (next.size() > kFallbackChars) {
            if (out.isEmpty()) out = w.left(kFallbackChars);
            break;
        }
        out = next;
        ++used;
    }
    if (out.size() < userText.simplified().size()) out += QStringLiteral("…");
    return out;
}

}  // namespace bonsai::core
