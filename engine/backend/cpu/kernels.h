#pragma once
// SIMD kernel tables (kernels_avx2.cpp / kernels_avx512.cpp are compiled with their own ISA flags and
// must only be called when cpu_features says the CPU has that ISA).
#include <cstdint>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"

namespace bonsai::cpu::detail {

// y[t·n_out + o] = W[o]·x[t] for rows o in [o0, o1) and every activation row t of `a`.
// `a` is already in act_format(w.type) with its aux data (matmul.h).
using GemmFn = void (*)(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);

struct KernelTable {
    GemmFn q1_0_r16 = nullptr;   // Q1_0, Layout::R16, Q8_0 activations
    GemmFn q1_0_r16m = nullptr;  // Q1_0, Layout::R16M (AVX-512 only), Q8_0 activations
    GemmFn q2_0_r16 = nullptr;  // Q2_0, Layout::R16, Q8_0 activations
    GemmFn tq2_0 = nullptr;     // TQ2_0, native layout, Q8_K activations
    GemmFn tq2_0_r16t = nullptr;  // TQ2_0, Layout::R16T (AVX-512 only), Activations::taux
    GemmFn q1_0_r16l = nullptr;   // Q1_0, Layout::R16L (AVX-512 with VBMI), Q8_0 activations
    GemmFn q1_0_r32l = nullptr;   // Q1_0, Layout::R32L (AVX2), Q8_0 activations
    GemmFn tq2_0_r32t = nullptr;  // TQ2_0, Layout::R32T (AVX2), Q8_K activations
};
KernelTable avx512_kernels();
KernelTable avx2_kernels();

// Rows [o0, o1) of Q1_0 R16M codes and scales (repack.h, row 0 at `codes` / `scales`) against every
// token of `a` (its aux form) with the AVX-512 prefill tiles: y[t·y_stride + o]. For the R16L kernel's
// converted row blocks; AVX-512 only.
void q1_0_r16m_prefill(const uint8_t* codes, const uint16_t* scales, int64_t n_in, const Activations& a, int64_t o0,
                       int64_t o1, float* y, int64_t y_stride);

// The Q1_0 R16L kernel (kernels_avx512_vbmi.cpp, compiled with VBMI): call only when has_avx512_vbmi().
void q1_0_r16l_vbmi(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);
// The AMX prompt kernels below take batches of more tokens than this (their token tiles hold 16).
constexpr int64_t kAmxMinTokens = 16;
// The Q1_0 R16L prompt kernel on AMX int8 tiles (kernels_amx.cpp), reading Activations::x128: call only
// when amx_kernels_enabled() and a.x128(0) != nullptr.
void q1_0_r16l_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);
// The Q2_0 R16 prompt kernel on AMX int8 tiles (kernels_amx.cpp), reading Activations::x128: call only
// when amx_kernels_enabled() and a.x128(0) != nullptr.
void q2_0_r16_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);
// The TQ2_0 R16T prompt kernel on AMX int8 tiles (kernels_amx.cpp, Q8_K activations' native rows): call only
// when amx_kernels_enabled().
void tq2_0_r16t_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);
// Activations::x128's rounding of n floats (n % 128 == 0): q = round(x / d) with d = max|x| / 127 per 128,
// AVX-512 (built with the AMX kernels; Activations asks for it only where they run).
void quantize_x128(const float* x, int8_t* q, float* d, int64_t n);
// The AVX2 Q1_0 R32L kernel (kernels_avx2_table.cpp): table lookups (vpshufb) for every batch size.
void q1_0_r32l_avx2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);
// Its tables for one Q8_0 row of n_in elements (n_in % 32 == 0): q1_table_bytes(n_in) bytes at `tab`
// (Activations::q1_tables): 256 per block of 32, then 16 per group of 4 blocks. Call only on a CPU with AVX2.
void q1_0_tables_avx2(const uint8_t* q8_row, uint8_t* tab, int64_t n_in);
constexpr size_t q1_table_bytes(int64_t n_in) {
    return static_cast<size_t>(n_in / 32) * 256 + static_cast<size_t>((n_in / 32 + 3) / 4) * 16;
}

// The AVX2 Q2_0 R16 rows for one token (kernels_avx2_decode.cpp). Call only on a CPU with AVX2.
void q2_0_r16_decode_avx2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);

// The AVX2 TQ2_0 R32T table kernel (kernels_avx2_table.cpp), for decode-sized batches (each token on its
// own), and its tables for one Q8_K row (4096 bytes per 256 elements). Call only on a CPU with AVX2.
void tq2_0_r32t_table_avx2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);
void tq2_0_tables_avx2(const uint8_t* q8k_row, uint8_t* tab, int64_t n_in);

// The kernel for `w` under `isa`, or nullptr (then the scalar path runs).
GemmFn find_kernel(const Weight& w, Isa isa);

}  // namespace bonsai::cpu::detail
