#include "bonsai/cpu_kernels.h"

#include "backend/cpu/cpu_features.h"

namespace bonsai {

std::string cpu_kernels_summary() {
    const cpu::Isa isa = cpu::active_isa();
    std::string s = cpu::isa_name(isa);
    if (isa == cpu::Isa::Avx512 && cpu::has_avx512_vbmi()) s += " + vbmi";
    if (cpu::amx_kernels_enabled()) {
        s += ", AMX int8 prompt tiles";
    } else if (cpu::amx_granted()) {
        s += ", AMX granted but its tiles switched off (BONSAI_CPU_AMX=0)";
    } else {
        s += std::string(", AMX ") + cpu::amx_reason();
    }
    return s;
}

}  // namespace bonsai
