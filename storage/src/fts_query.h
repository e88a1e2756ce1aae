#pragma once
// Turns what a person typed into a safe FTS5 query: every word becomes a quoted string (so "AND", quotes,
// colons or parentheses are just text), a trailing '*' survives as a prefix search. Words are joined with
// `joiner` (" " means all words must match; " OR " any). Empty when the input has no word.
#include <string>
#include <string_view>

namespace bonsai::storage::detail {

std::string fts_query(std::string_view user_text, std::string_view joiner);

}  // namespace bonsai::storage::detail
