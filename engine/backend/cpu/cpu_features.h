#pragma once
// Run-time choice of the SIMD kernel family. The engine is compiled for baseline x86-64; only the kernel
// files are built with AVX2 / AVX-512 flags, and they are called only when cpuid says the CPU has them.
namespace bonsai::cpu {

// Kernel families, ordered by capability.
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// Best family this CPU (and OS, via XGETBV) supports: Avx512 needs F+BW+VL+VNNI, Avx2 needs AVX2+FMA+F16C.
// The environment variable BONSAI_CPU_ISA=avx2|scalar caps it for the process (with DNNL_MAX_CPU_ISA=AVX2
// for oneDNN, a run then behaves as on a CPU without AVX-512).
Isa detected_isa();
// Family the kernels use now: detected_isa(), or a lower one forced with set_isa_override.
Isa active_isa();
// Forces a family (clamped to detected_isa()); for tests and benchmarks. Not thread-safe against
// matmuls running at the same time. reset_isa_override() returns to the detected family.
void set_isa_override(Isa isa);
void reset_isa_override();
const char* isa_name(Isa isa);
// AVX-512 VBMI (vpermb) on top of detected_isa() == Avx512: the Q1_0 table-lookup kernel needs it
// (repack.h, Layout::R16L). Ice Lake, Sapphire Rapids and Zen 4 have it; Skylake-SP and Cascade Lake do not.
bool has_avx512_vbmi();

// ---- AMX (Intel Advanced Matrix Extensions) ----
// This answer gates everything that executes tile instructions: oneDNN (onednn_gemm.h) and the own int8
// prompt kernels (kernels_amx.cpp, amx_kernels_enabled below). Some virtual machines advertise AMX in cpuid yet fault on its first use
// (llama.cpp's AMX path dies with SIGILL there), so "granted" needs all of:
//   1. cpuid leaf 7: AMX-TILE, AMX-INT8 and AMX-BF16;
//   2. XCR0 (XGETBV) enables the XTILECFG and XTILEDATA state components (bits 17, 18);
//   3. the kernel grants this process XTILEDATA: arch_prctl(ARCH_REQ_XCOMP_PERM, 18) succeeds and
//      arch_prctl(ARCH_GET_XCOMP_PERM) then reports bit 18 (Linux >= 5.16).
// Computed once per process (the request is per process and idempotent); thread-safe.
bool amx_granted();
// Why AMX is or is not usable, for logs and `bench` output: "granted" or e.g. "not present (cpuid ...)".
// Never empty.
const char* amx_reason();
// Whether the own AMX prompt kernels run (kernels_amx.cpp): amx_granted(), and neither the environment
// (BONSAI_CPU_AMX=0, for A/B benchmarks) nor set_amx_kernels(false) (tests) switched them off.
bool amx_kernels_enabled();
// Switches the own AMX kernels off (false) or back to the default (true: on where granted). Not
// thread-safe against matmuls running at the same time.
void set_amx_kernels(bool on);

}  // namespace bonsai::cpu
