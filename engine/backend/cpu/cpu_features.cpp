#include "backend/cpu/cpu_features.h"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace bonsai::cpu {
namespace {

Isa detect() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Scalar;
    const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return Isa::Scalar;
    unsigned xlo = 0, xhi = 0;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    const uint64_t xcr0 = (static_cast<uint64_t>(xhi) << 32) | xlo;
    if ((xcr0 & 0x6) != 0x6) return Isa::Scalar;  // the OS saves neither XMM nor YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Scalar;
    const bool avx2 = (b >> 5) & 1;
    if (!(avx2 && fma && f16c)) return Isa::Scalar;
    const bool f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    const bool zmm_state = (xcr0 & 0xE0) == 0xE0;  // opmask + upper ZMM state enabled by the OS
    if (f && bw && vl && vnni && zmm_state) return Isa::Avx512;
    return Isa::Avx2;
#else
    return Isa::Scalar;
#endif
}

std::atomic<int> g_override{-1};

}  // namespace

// BONSAI_CPU_ISA=avx2|scalar caps the detected family for the whole process (run a machine's lower
// kernels end to end, e.g. `bonsai-cli bench`, to see what a CPU without AVX-512 gets); other values and
// higher families than the CPU has are ignored.
Isa capped(Isa isa) {
    const char* e = std::getenv("BONSAI_CPU_ISA");
    if (!e) return isa;
    const std::string v = e;
    const Isa cap = v == "scalar" ? Isa::Scalar : v == "avx2" ? Isa::Avx2 : Isa::Avx512;
    return static_cast<int>(cap) < static_cast<int>(isa) ? cap : isa;
}

Isa detected_isa() {
    static const Isa isa = capped(detect());
    return isa;
}

Isa active_isa() {
    const int o = g_override.load(std::memory_order_relaxed);
    return o < 0 ? detected_isa() : static_cast<Isa>(o);
}

void set_isa_override(Isa isa) {
    const int v = static_cast<int>(isa) > static_cast<int>(detected_isa()) ? static_cast<int>(detected_isa())
                                                                             : static_cast<int>(isa);
    g_override.store(v);
}

void reset_isa_override() { g_override.store(-1); }

bool has_avx512_vbmi() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool vbmi = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        return detected_isa() == Isa::Avx512 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((c >> 1) & 1) != 0;
    }();
    return vbmi;
#else
    return false;
#endif
}

namespace {

struct AmxState {
    bool granted = false;
    std::string reason;
};

AmxState detect_amx() {
#if defined(__linux__) && defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) return {false, "not present (no OSXSAVE)"};
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return {false, "not present (no cpuid leaf 7)"};
    const bool tile = (d >> 24) & 1, i8 = (d >> 25) & 1, bf16 = (d >> 22) & 1;
    if (!tile) return {false, "not present (cpuid has no AMX-TILE)"};
    if (!i8 || !bf16) return {false, "not present (cpuid lacks AMX-INT8 or AMX-BF16)"};
    unsigned xlo = 0, xhi = 0;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    const uint64_t xcr0 = (static_cast<uint64_t>(xhi) << 32) | xlo;
    if ((xcr0 & (3ull << 17)) != (3ull << 17)) return {false, "present in cpuid, but XCR0 does not enable tile state"};
    // Linux uapi asm/prctl.h values (spelled out: older headers lack them).
    constexpr long kArchGetXcompPerm = 0x1022, kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
        const int e = errno;
        return {false, std::string("present, but the kernel refused tile data permission (arch_prctl: ") +
                           std::strerror(e) + ")"};
    }
    unsigned long perm = 0;
    if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &perm) != 0) {
        const int e = errno;
        return {false, std::string("present, but ARCH_GET_XCOMP_PERM failed (") + std::strerror(e) + ")"};
    }
    if (!((perm >> kXfeatureXtiledata) & 1)) return {false, "present, but tile data permission was not granted"};
    return {true, "granted"};
#else
    return {false, "not present (not x86-64 Linux)"};
#endif
}

const AmxState& amx_state() {
    static const AmxState s = detect_amx();
    return s;
}

}  // namespace

bool amx_granted() { return amx_state().granted; }
const char* amx_reason() { return amx_state().reason.c_str(); }

namespace {
std::atomic<bool> g_amx_kernels{[] {
    const char* e = std::getenv("BONSAI_CPU_AMX");
    return !(e && std::strcmp(e, "0") == 0);
}()};
}  // namespace

bool amx_kernels_enabled() { return g_amx_kernels.load(std::memory_order_relaxed) && amx_granted(); }
void set_amx_kernels(bool on) {
    const char* e = std::getenv("BONSAI_CPU_AMX");
    g_amx_kernels.store(on && !(e && std::strcmp(e, "0") == 0));
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return "scalar";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512-vnni";
    }
    return "?";
}

}  // namespace bonsai::cpu
