#pragma once
// The engine's one exception type. Code inside the engine throws it; every public entry point
// documents that it may. Callers at a module boundary (CLI, app/core) catch it and show what()
// to the user, so messages must name what is wrong in words a user can act on.
#include <stdexcept>
#include <string>

namespace bonsai {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace bonsai
