#include "storage_cli.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bonsai/storage/database.h"

namespace bonsai::cli {

std::string db_path(Args& args) {
    auto p = args.value({"--db"});
    return p ? *p : bonsai::storage::default_profile_path();
}

std::string subcommand(const Args& args) {
    for (const auto& a : args.raw())
        if (a.empty() || a[0] != '-') return a;
    return {};
}

long long parse_id(const std::string& s, const char* what) {
    size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || s.empty() || v <= 0)
        throw UsageError(std::string(what) + " must be a positive integer id, got '" + s + "'");
    return v;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw std::runtime_error("error while reading " + path);
    return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << data;
    out.flush();
    if (!out) throw std::runtime_error("error while writing " + path);
}

std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return s;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

}  // namespace bonsai::cli
