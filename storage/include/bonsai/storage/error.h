#pragma once
// The one exception type libbonsai-storage throws. Messages are meant for people: they say what was being
// done, on which file or id, and what SQLite (or the validator) reported.
#include <stdexcept>
#include <string>

namespace bonsai::storage {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace bonsai::storage
