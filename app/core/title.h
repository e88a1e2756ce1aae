#pragma once
// Conversation titles: the instruction that asks a model for one, the cleanup of what it answers, and
// the fallback (the first words of the user's first message) when it answers nothing usable.
#include <QString>

namespace bonsai::core {

// The user turn appended to the visible conversation to ask for a title.
QString titleInstruction();
// The model's answer made into a title: the first non-empty line, without a thinking block, a "Title:"
// label, quotes, Markdown emphasis or trailing punctuation, at most 60 characters. "" when nothing usable
// (no letter or digit) is left.
QString cleanTitle(const QString& modelText);
// The first words (at most 6, at most 48 characters) of `userText`, with "…" when cut. "" for blank text.
QString fallbackTitle(const QString& userText);

}  // namespace bonsai::core
