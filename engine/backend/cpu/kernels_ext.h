#pragma once
// Second SIMD kernel set (kernels_ext_avx512.cpp / kernels_ext_avx2.cpp, each compiled with its own ISA
// flags): TQ1_0, Q8_0, Q4_0, PQ2_0, PTQ1_0, I2_S, F16 and BF16 weights in their native GGUF layout. Numerics are
// those of the scalar kernels in matmul.cpp (integer block dot products are exact; only the float
// summation order differs).
//
// The kernels read the activations of matmul.h not directly but through a per-call re-layout ("packed
// activations", kernels_ext_acts.cpp, plain C++) that puts each int8 where the weight codes land after
// their SIMD unpacking, plus per-lane scales and block sums. Each pool thread packs all tokens into a
// thread-local buffer once per Activations::prepare (keyed by Activations::generation), so the many
// row grains of a matmul, and the matmuls sharing one input (q/k/v, gate/up), reuse it.
#include <cstddef>
#include <cstdint>

#include "backend/cpu/kernels.h"

namespace bonsai::cpu::detail {

// Kernels of one ISA family; nullptr = none (the scalar path runs).
struct ExtKernelTable {
    GemmFn tq1_0 = nullptr;  // TQ1_0, Q8_K activations
    GemmFn q8_0 = nullptr;   // Q8_0, Q8_0 activations
    GemmFn q4_0 = nullptr;   // Q4_0, Q8_0 activations
    GemmFn pq2_0 = nullptr;  // PQ2_0, Q8_0 activations
    GemmFn i2_s = nullptr;   // I2_S, I8_ROW activations (whole tensor + trailing per-tensor scale)
    GemmFn f16 = nullptr;    // F16, F16 activations (floats already rounded through fp16)
    GemmFn bf16 = nullptr;   // BF16, BF16 activations
    GemmFn ptq1_0 = nullptr; // PTQ1_0, Q8_0 activations
};
ExtKernelTable ext_avx512_kernels();
ExtKernelTable ext_avx2_kernels();
// The TQ1_0 digit-table kernel (kernels_ext_avx512_vbmi.cpp, compiled with VBMI): ext_avx512_kernels()
// takes it instead of the arithmetic one when has_avx512_vbmi().
void tq1_0_vbmi(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y);

// Packed activations: row t starts at data + t·stride (stride a multiple of 64). The buffer is owned by
// the calling thread and stays valid until that thread packs other activations into the same layout.
struct Packed {
    const uint8_t* data = nullptr;
    size_t stride = 0;
    const uint8_t* row(int64_t t) const { return data + static_cast<size_t>(t) * stride; }
};

// Q8_0 activations for Q8_0 / Q4_0 weights, in groups of 4 blocks (128 elements), 256 bytes per group:
//   [0, 64)    int8: byte 16k + m = element m of block k (m < 16), i.e. the first halves of the 4 blocks;
//   [64, 128)  int8: the second halves the same way (element 16 + m of block k);
//   [128, 192) int32 lane 4k = Σq of block k (other lanes 0);
//   [192, 256) f32 lane 4k..4k+3 = d of block k.
// A last partial group is zero-padded (d = 0, Σ = 0).
constexpr size_t kG4Bytes = 256;
Packed pack_g4(const Activations& a);

// Q8_0 activations for PQ2_0 weights, in pairs of weight blocks (2 × 128 elements), 384 bytes per pair:
//   [0, 256)   four 64-byte vectors s = 0..3: byte 32h + k = element 4k + s of weight block h (h = 0, 1);
//   [256, 320) int32 lane 2j = Σq of activation block j of the pair (j = 0..7), odd lanes 0;
//   [320, 384) f32 lane L = d of activation block L/2 of the pair.
// A missing second block of the last pair is zero.
constexpr size_t kPq2Bytes = 384;
Packed pack_pq2(const Activations& a);

// I8_ROW activations for I2_S weights: [0, 4) f32 s, [4, 8) int32 Σa, then from byte 64 pairs of 128-element
// blocks, 256 bytes each: byte 64g + 32h + m = element 32g + m of block h of the pair (the order of the
// codes after shifting a 64-byte weight vector by 6 − 2g). A missing second block is zero.
constexpr size_t kI2sBytes = 256;
Packed pack_i2s(const Activations& a);

// Q8_K activations for TQ1_0 weights, nb = n_in/256 blocks: first nb × 320 bytes, block b at 320b holding
// five 64-byte vectors n = 0..4 (the n-th trit of the 52 packed bytes qs[48], qh[4]):
//   byte m      (m < 32) = element 32n + m
//   byte 32 + m (m < 16) = element 160 + 16n + m
//   byte 48 + m (m < 4)  = element 240 + 4n + m (n < 4; zero for n = 4)
//   bytes 52..63 zero;
// then nb f32 block scales d, then nb int32 block sums Σq.
Packed pack_tq1(const Activations& a);

// Q8_0 activations for PTQ1_0 weights (28-byte blocks qs[24], qh[2], d of 128 ternary values), in pairs of
// weight blocks, 704 bytes per pair. Trit n of byte m of block h lands in byte 32h + m of vector n:
//   [0, 320)   five 64-byte vectors n = 0..4: byte 32h + m = element 16n + m (m < 16), 80 + 8n + (m − 16)
//              (16 ≤ m < 24), 120 + 2n + (m − 24) (m = 24, 25, n < 4) of block h; other bytes zero;
//   [320, 512) three int32 vectors G = 0 (n = 0, 1), 1 (n = 2, 3), 2 (n = 4): the Σq of each activation
//              block, each placed once in a lane of a vector whose trits belong to that block;
//   [512, 704) three f32 vectors G: lane L = d of the activation block that lane L of the trit vectors of
//              group G belongs to (a lane's 4 bytes always share one activation block within a group).
constexpr size_t kPtq1Bytes = 704;
Packed pack_ptq1(const Activations& a);

}  // namespace bonsai::cpu::detail
