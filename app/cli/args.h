#pragma once
// A small llama.cpp-style argument parser for bonsai-cli subcommands.
// Options are consumed as they are asked for; positionals() is called last and rejects any
// option nobody asked for. Accepted spellings: "-m X", "--model X", "--model=X".
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bonsai::cli {

// Thrown for a malformed command line; bonsai-cli prints it and exits with status 2.
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& what) : std::runtime_error(what) {}
};

class Args {
public:
    explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}

    // True when any of `names` is present (a boolean switch); removes every occurrence.
    bool flag(std::initializer_list<std::string_view> names);
    // The value of the last occurrence of an option, or nullopt; throws UsageError when the value is missing.
    std::optional<std::string> value(std::initializer_list<std::string_view> names);
    // Every value of a repeatable option, in order.
    std::vector<std::string> values(std::initializer_list<std::string_view> names);
    // Typed helpers: throw UsageError naming the option when the value does not parse.
    std::optional<long long> integer(std::initializer_list<std::string_view> names);
    std::optional<double> number(std::initializer_list<std::string_view> names);
    // The remaining arguments; throws UsageError for any leftover "-x"/"--xyz" option
    // (a lone "-" and anything after "--" are positionals).
    std::vector<std::string> positionals();

    // All remaining raw arguments, unconsumed (for subcommands with their own sub-subcommands).
    const std::vector<std::string>& raw() const { return args_; }

private:
    std::vector<std::string> args_;
};

}  // namespace bonsai::cli
