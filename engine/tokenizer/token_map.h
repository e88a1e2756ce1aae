#pragma once
// Hash map from token text to a value that can be queried with a string_view (no allocation per lookup).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bonsai::tok {

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// text -> id (the vocabulary) or merge string -> rank (the merges).
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// Looks `key` up; -1 when absent.
inline int32_t find_or(const TokenMap& m, std::string_view key) {
    auto it = m.find(key);
    return it == m.end() ? -1 : it->second;
}

}  // namespace bonsai::tok
