#pragma once
// Helpers shared by the chat-template tests: file reading, the fixtures' fixed clock, and a
// first-difference description for byte-exact comparisons.
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bonsai/chat_template.h"
#include "test_paths.h"

namespace bonsai::test {

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The fixtures were rendered with strftime_now's clock fixed at 2026-11-26 00:00:00 (naive local time).
inline std::tm fixture_time() {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 10;
    tm.tm_mday = 26;
    std::time_t t = timegm(&tm);  // normalises tm_wday / tm_yday
    std::tm out{};
    gmtime_r(&t, &out);
    return out;
}

inline bonsai::RenderOptions fixture_options() {
    bonsai::RenderOptions o;
    o.clock = fixture_time;
    return o;
}

// "" when equal, else where and how the strings first differ.
inline std::string first_difference(const std::string& got, const std::string& want) {
    if (got == want) return "";
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    auto snippet = [&](const std::string& s) {
        size_t b = i > 20 ? i - 20 : 0;
        std::string x = s.substr(b, 60);
        std::string esc;
        for (char c : x) esc += c == '\n' ? std::string("\\n") : std::string(1, c);
        return esc;
    };
    return "differs at byte " + std::to_string(i) + " (got " + std::to_string(got.size()) + " bytes, want " +
           std::to_string(want.size()) + ")\n  got:  " + snippet(got) + "\n  want: " + snippet(want);
}

}  // namespace bonsai::test
