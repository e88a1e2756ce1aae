#pragma once
// Run-time choice of the SIMD kernel family. The engine is compiled for baseline x86-64; only the kernel
// files are built with AVX2 / AVX-512 flags, and they are called only when cpuid says the CPU has them.
namespace bonsai::cpu {

// Kernel families, ordered by capability.
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// Best family this CPU (and OS, via XGETBV) supports: Avx512 needs F+BW+VL+VNNI, Avx2 needs AVX2+FMA+F16C.
Isa detected_isa();
// Family the kernels use now: detected_isa(), or a lower one forced with set_isa_override.
Isa active_isa();
// Forces a family (clamped to detected_isa()); for tests and benchmarks. Not thread-safe against
// matmuls running at the same time. reset_isa_override() returns to the detected family.
void set_isa_override(Isa isa);
void reset_isa_override();
const char* isa_name(Isa isa);

}  // namespace bonsai::cpu
