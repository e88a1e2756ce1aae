#pragma once
// Shared pieces of the fuzz targets (tests/fuzz/fuzz_<name>.cpp).
//
// Each target defines `int bonsai_fuzz_<name>(const uint8_t* data, size_t size)`: it feeds the bytes
// to one untrusted-input entry point, accepts the documented error (bonsai::Error, storage::Error, an
// error result ...) and checks invariants that must hold for ANY input. A broken invariant, an
// exception of an undocumented type, a crash or a sanitizer report is a finding. The same function is
// called by libFuzzer (LLVMFuzzerTestOneInput, only in -DBONSAI_FUZZ=ON builds) and by the normal test
// suite (test_fuzz_regressions replays every seed-corpus and regression file through it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace bonsai::fuzz {

// Reports a broken invariant and aborts, so that libFuzzer saves the input as a crash and the
// regression test fails loudly (a QVERIFY cannot be used here: the same code runs under libFuzzer).
[[noreturn]] inline void fail(const char* target, const std::string& what) {
    std::fprintf(stderr, "bonsai fuzz invariant broken in %s: %s\n", target, what.c_str());
    std::fflush(stderr);
    std::abort();
}

#define BONSAI_FUZZ_CHECK(target, cond, what)                         \
    do {                                                              \
        if (!(cond)) ::bonsai::fuzz::fail(target, std::string(what)); \
    } while (0)

// The fixture folder (/work/shared/fixtures), from $BONSAI_FIXTURES_DIR when set, else the build's.
inline std::string fixtures_dir() {
    if (const char* env = std::getenv("BONSAI_FIXTURES_DIR"); env && *env) return env;
#ifdef BONSAI_FIXTURES_DIR
    return BONSAI_FIXTURES_DIR;
#else
    return "fixtures";
#endif
}

// True when `s` is well-formed UTF-8 (shortest forms, no surrogates, <= U+10FFFF). Written here from
// the Unicode definition (Table 3-7), independently of the engine's own validator.
inline bool is_valid_utf8(std::string_view s) {
    size_t i = 0;
    const size_t n = s.size();
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    while (i < n) {
        const unsigned c = byte(i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        if (i + len > n) return false;
        if (byte(i + 1) < lo || byte(i + 1) > hi) return false;
        for (size_t k = 2; k < len; ++k)
            if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return false;
        i += len;
    }
    return true;
}

}  // namespace bonsai::fuzz

// Defines libFuzzer's entry point for one target in fuzzer builds (BONSAI_FUZZ_MAIN is set only on the
// fuzz_<name> executables, never on the regression test that links every target together).
#ifdef BONSAI_FUZZ_MAIN
#define BONSAI_FUZZ_ENTRY(fn) \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fn(data, size); }
#else
#define BONSAI_FUZZ_ENTRY(fn)
#endif
