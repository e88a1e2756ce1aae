#pragma once
// Which CPU kernels this process runs, for `bonsai-cli bench` and logs: benchmark numbers mean little
// without it (the same model decodes and reads prompts through different code on AVX2, AVX-512 and AMX).
#include <string>

namespace bonsai {

// The kernel family in use and what the prompt path adds, e.g. "avx512-vnni + vbmi, AMX int8 prompt
// tiles", "avx512-vnni, AMX not present (cpuid has no AMX-TILE)" or "avx2, AMX not present (...)".
// Starts with the family's name ("scalar", "avx2" or "avx512-vnni"). Never throws.
std::string cpu_kernels_summary();

}  // namespace bonsai
