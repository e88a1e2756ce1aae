#include "fts_query.h"

#include <cctype>

namespace bonsai::storage::detail {

std::string fts_query(std::string_view text, std::string_view joiner) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        size_t start = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        std::string_view word = text.substr(start, i - start);
        if (word.empty()) continue;
        bool prefix = word.size() > 1 && word.back() == '*';
        if (prefix) word.remove_suffix(1);
        // A word with no letters or digits (e.g. "-" or "*") would be an empty FTS5 string: skip it.
        bool has_token = false;
        for (unsigned char c : word) has_token |= (std::isalnum(c) || c >= 0x80);
        if (!has_token) continue;
        if (!out.empty()) out += joiner;
        out += '"';
        for (char c : word) {
            if (c == '"') out += '"';  // FTS5 escapes a quote inside a string by doubling it
            out += c;
        }
        out += '"';
        if (prefix) out += '*';
    }
    return out;
}

}  // namespace bonsai::storage::detail
