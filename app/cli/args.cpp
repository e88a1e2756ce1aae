#include "args.h"

#include <cerrno>
#include <cstdlib>

namespace bonsai::cli {

namespace {
bool matches(std::string_view arg, std::initializer_list<std::string_view> names, std::string_view* inline_value) {
    for (std::string_view n : names) {
        if (arg == n) return true;
        if (n.starts_with("--") && arg.size() > n.size() && arg.starts_with(n) && arg[n.size()] == '=') {
            if (inline_value) *inline_value = arg.substr(n.size() + 1);
            return true;
        }
    }
    return false;
}

std::string first_name(std::initializer_list<std::string_view> names) {
    return names.size() ? std::string(*names.begin()) : std::string();
}
}  // namespace

bool Args::flag(std::initializer_list<std::string_view> names) {
    bool found = false;
    for (size_t i = 0; i < args_.size();) {
        if (args_[i] == "--") break;
        if (matches(args_[i], names, nullptr) && args_[i].find('=') == std::string::npos) {
            args_.erase(args_.begin() + static_cast<long>(i));
            found = true;
        } else {
            ++i;
        }
    }
    return found;
}

std::vector<std::string> Args::values(std::initializer_list<std::string_view> names) {
    std::vector<std::string> out;
    for (size_t i = 0; i < args_.size();) {
        if (args_[i] == "--") break;
        std::string_view inline_value;
        bool has_inline = false;
        if (matches(args_[i], names, &inline_value)) {
            has_inline = args_[i].find('=') != std::string::npos && args_[i].starts_with("--");
            if (has_inline) {
                out.emplace_back(inline_value);
                args_.erase(args_.begin() + static_cast<long>(i));
            } else {
                if (i + 1 >= args_.size()) throw UsageError("option " + args_[i] + " needs a value");
                out.push_back(args_[i + 1]);
                args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
            }
        } else {
            ++i;
        }
    }
    return out;
}

std::optional<std::string> Args::value(std::initializer_list<std::string_view> names) {
    auto all = values(names);
    if (all.empty()) return std::nullopt;
    return all.back();
}

std::optional<long long> Args::integer(std::initializer_list<std::string_view> names) {
    auto v = value(names);
    if (!v) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno == ERANGE)
        throw UsageError("option " + first_name(names) + " needs an integer, got '" + *v + "'");
    return x;
}

std::optional<double> Args::number(std::initializer_list<std::string_view> names) {
    auto v = value(names);
    if (!v) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    double x = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || errno == ERANGE)
        throw UsageError("option " + first_name(names) + " needs a number, got '" + *v + "'");
    return x;
}

std::vector<std::string> Args::positionals() {
    std::vector<std::string> out;
    bool after_dashdash = false;
    for (const auto& a : args_) {
        if (!after_dashdash && a == "--") {
            after_dashdash = true;
            continue;
        }
        if (!after_dashdash && a.size() > 1 && a[0] == '-') {
            // Allow negative numbers as positionals.
            char c = a[1];
            if (!(c >= '0' && c <= '9') && c != '.') throw UsageError("unknown option " + a);
        }
        out.push_back(a);
    }
    args_.clear();
    return out;
}

}  // namespace bonsai::cli
