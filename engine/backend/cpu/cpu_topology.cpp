#include "backend/cpu/cpu_topology.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

namespace bonsai::cpu {
namespace {

constexpr int kMaxCpu = 1 << 16;  // bound on CPU numbers read from sysfs

// The smallest CPU of a "0-3,8,10-11" list (what names its core), or -1 when the text is not such a list.
int first_of_cpu_list(const std::string& text) {
    std::string s = text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.empty()) return -1;
    int first = -1;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) {
        const size_t dash = item.find('-');
        const std::string a = item.substr(0, dash), b = dash == std::string::npos ? a : item.substr(dash + 1);
        auto number = [](const std::string& t) {
            if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos) return -1;
            const int v = std::stoi(t);
            return v < kMaxCpu ? v : -1;
        };
        const int lo = number(a), hi = number(b);
        if (lo < 0 || hi < lo) return -1;
        first = first < 0 ? lo : std::min(first, lo);
    }
    return first;
}

std::string read_small_file(const std::string& path) {
    std::ifstream f(path);
    if (!f) return {};
    std::string s(256, '\0');
    f.read(s.data(), static_cast<std::streamsize>(s.size()));
    s.resize(static_cast<size_t>(f.gcount()));
    return s;
}

std::vector<int> allowed_cpus() {
    std::vector<int> cpus;
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
#endif
    if (cpus.empty())
        for (unsigned c = 0; c < std::max(1u, std::thread::hardware_concurrency()); ++c) cpus.push_back(static_cast<int>(c));
    return cpus;
}

}  // namespace

int count_physical_cores(const std::string& cpu_dir, const std::vector<int>& cpus) {
    std::set<int> cores;
    for (int c : cpus) {
        const std::string base = cpu_dir + "/cpu" + std::to_string(c) + "/topology/";
        std::string list = read_small_file(base + "core_cpus_list");
        if (list.empty()) list = read_small_file(base + "thread_siblings_list");
        const int core = first_of_cpu_list(list);
        if (core < 0) return std::max<int>(1, static_cast<int>(cpus.size()));
        cores.insert(core);
    }
    return std::max<int>(1, static_cast<int>(cores.size()));
}

int default_thread_count() {
    static const int n = count_physical_cores("/sys/devices/system/cpu", allowed_cpus());
    return n;
}

}  // namespace bonsai::cpu
