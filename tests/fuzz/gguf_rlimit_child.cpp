// Child process of test_gguf_rlimit: caps its own address space with RLIMIT_AS, then opens a GGUF.
//
//   gguf_rlimit_child open <file> <slack MiB>     cap = current size + file size + slack, then
//                                                 GgufFile::open(file), read every metadata array element
//                                                 and every tensor byte. Prints "accepted" or
//                                                 "rejected: <error>"; exit 0.
//   gguf_rlimit_child control <file> <slack MiB>  same cap, then allocates file size + 2 x slack and
//                                                 touches it: shows that the cap really bites.
// Exit 3 = an allocation failed (std::bad_alloc), 4 = the control allocation succeeded, 2 = usage.
// Qt-free and single-threaded on purpose: nothing else grows the address space while it runs.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "bonsai/error.h"
#include "bonsai/gguf.h"

namespace {

// Current virtual size of this process in bytes (first field of /proc/self/statm, in pages).
long long vm_bytes() {
    std::ifstream in("/proc/self/statm");
    long long pages = 0;
    in >> pages;
    return pages * sysconf(_SC_PAGESIZE);
}

void walk(const bonsai::gguf::GgufFile& f) {
    using bonsai::gguf::ValueType;
    unsigned long long sum = 0;
    for (const auto& kv : f.metadata()) {
        if (kv.type != ValueType::ARRAY) continue;
        for (uint64_t i = 0; i < kv.arr.size(); ++i) {
            try {
                if (kv.arr.elem_type() == ValueType::STRING)
                    sum += kv.arr.string_at(i).size();
                else if (kv.arr.elem_type() == ValueType::F32 || kv.arr.elem_type() == ValueType::F64)
                    sum += static_cast<unsigned long long>(kv.arr.float_at(i) != 0);
                else
                    sum += static_cast<unsigned long long>(kv.arr.int_at(i));
            } catch (const bonsai::Error&) {
            }
        }
    }
    for (const auto& t : f.tensors())
        for (uint64_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
    std::printf("checksum %llu\n", sum);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: gguf_rlimit_child open|control <file> <slack MiB>\n");
        return 2;
    }
    const std::string mode = argv[1];
    const std::string path = argv[2];
    const long long slack = std::atoll(argv[3]) << 20;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        std::fprintf(stderr, "cannot stat %s\n", path.c_str());
        return 2;
    }
    const long long cap = vm_bytes() + static_cast<long long>(st.st_size) + slack;
    const rlimit lim{static_cast<rlim_t>(cap), static_cast<rlim_t>(cap)};
    if (::setrlimit(RLIMIT_AS, &lim) != 0) {
        std::perror("setrlimit");
        return 2;
    }
    try {
        if (mode == "control") {
            const size_t n = static_cast<size_t>(st.st_size + 2 * slack);
            char* p = new char[n];
            std::memset(p, 1, n);
            std::printf("control allocation of %zu bytes succeeded\n", n);
            delete[] p;
            return 4;
        }
        try {
            auto f = bonsai::gguf::GgufFile::open(path);
            walk(*f);
            std::printf("accepted\n");
        } catch (const bonsai::Error& e) {
            std::printf("rejected: %s\n", e.what());
        }
    } catch (const std::bad_alloc&) {
        std::printf("allocation failed under the cap\n");
        return 3;
    }
    return 0;
}
