#pragma once
// "R16" weight layout for Q1_0 and Q2_0 rows whose length is a multiple of 512.
//
// Why: both types carry one activation scale per 32 elements (Q8_0 blocks), so a kernel on the
// native layout must convert and scale every 32 products. R16 groups a row into chunks of 512
// elements = 16 activation blocks and transposes them so that int32 lane i of a 16-lane vector
// accumulates block i: one VNNI step covers 4 elements of each of the 16 blocks, 8 steps finish them,
// and the float conversion and scaling happen once per 512 elements instead of once per 32.
//
// Layout of a tensor of n_out rows, nc = n_in / 512 chunks per row (same total bytes as native):
//   codes:  n_out · nc · CB bytes, chunk (o, c) at (o·nc + c)·CB, CB = 64 (Q1_0) or 128 (Q2_0);
//           byte 4i+p of 64-byte vector v holds, for step s, the code of row element
//           512c + 32i + 4s + p: Q1_0 bit s (s = 0..7, v = 0); Q2_0 bits 2(s%4)..+1 of vector v = s/4.
//   R16M (Q1_0 only, the AVX-512 form): the same 64 code bytes hold eight 64-bit masks instead, one
//           per step: bit 4i+p of the little-endian word at byte 8s is the code of element
//           512c + 32i + 4s + p, so a step's mask selects activation bytes directly (kmov + masked load).
//   scales: then n_out · nc · NS fp16 weight scales, NS = 4 (Q1_0, groups of 128) or 8 (Q2_0, groups
//           of 64), in row order: chunk (o, c) at (o·nc + c)·NS.
// Activations for R16 weights use the same transposition (Activations::r16, see matmul.h).
//
// R16T (TQ2_0 rows whose length is a multiple of 2048, AVX-512 kernels): TQ2_0 activations are Q8_K
// (one f32 scale per 256), so the native kernel needs two half loads + an insert per vpdpbusd to line
// the activations up with the weight byte's 4 codes, and a float epilogue per block. R16T groups a row
// into chunks of 8 blocks (2048 elements) where int32 lane i accumulates half i%2 of block i/2: each
// 64-byte code vector feeds 4 vpdpbusd (one per 2-bit plane) against 4 contiguous 64-byte activation
// loads (Activations::taux), and the epilogue runs once per 2048 elements.
//   codes:  n_out · nc · 512 bytes, chunk (o, c) at (o·nc + c)·512, nc = n_in / 2048; bits 2l..2l+1 of
//           byte 64v + 4i + p hold the code (0..2, value (q-1)·d) of step s = 4v + l, i.e. of element
//           256(i/2) + 128(i%2) + 4s + p of the chunk (v < 8, l < 4, i < 16, p < 4).
//   scales: then n_out · nc · 8 fp16 block scales in row order: chunk (o, c) at (o·nc + c)·8.
//
// R16L (Q1_0 rows whose length is a multiple of 512, n_out a multiple of 16; AVX-512 VBMI): the
// form of the VBMI table-lookup kernel. One token's R16M kernel spends a mask load, a masked activation load
// and a vpdpbusd on every 64 weights, which caps one core below what memory delivers; here a 64-byte
// vector holds 16 rows × 32 weights (one activation block), and its 128 nibbles index per-token tables
// of the signed sums of 4 activations (vpermb), so 4 vpermb + 3 vpdpbusd cover 512 weights.
//   codes:  (n_out/16) · nb 64-byte vectors, nb = n_in / 32, one per row block rb and block b, stored K
//           slice by K slice (where: r16l_layout.h): byte 4r + j of vector (rb, b) holds, for row
//           16rb + r, the bits of elements 32b + 4j + p (p < 4, bit p) in its low nibble and those of
//           elements 32b + 16 + 4j + p in its high nibble (j < 4).
//   scales: then (n_out/16) · (n_in/128) groups of 16 fp16 in the same order: entry r of group (rb, g) =
//           the scale of native block g of row 16rb + r.
// Prompt batches convert one 16-row block at a time back to R16M in a per-thread buffer and run the
// R16M prefill kernel over every token (kernels_avx512_vbmi.cpp).
//
// R32L (Q1_0 rows whose length is a multiple of 512, n_out a multiple of 32; AVX2): the form of the AVX2
// table kernel (kernels_avx2_table.cpp). vpshufb looks up within 128-bit lanes, so with 16 rows per
// vector R16L needed a register transpose per block and a lane-crossing add per token; here each 32-byte
// vector holds one byte column of 32 rows (lane 0 and lane 1 different rows), one table serves both
// lanes, and no lane crossing remains.
//   codes:  (n_out/32) · nb 128-byte vectors, stored K slice by K slice like R16L (r16l_layout.h, Rows =
//           32): byte 32j + pos(r) of vector (rb, b) is R16L's byte j of row 32rb + r (elements 32b + 4j + p
//           in the low nibble, 32b + 16 + 4j + p in the high one), with pos(r) = 16·((r % 8) / 4) +
//           4·(r / 8) + r % 4: the kernel's widening of the lookup sums (vpunpck{l,h}wd of two blocks'
//           16-bit sums) then lands rows 0-7, 8-15, 16-23, 24-31 in four vectors in row order.
//   scales: then (n_out/32) · (n_in/128) groups of 32 fp16 in the same order: entry r of group (rb, g) =
//           the scale of native block g of row 32rb + r.
//
// R32T (TQ2_0 rows, n_out a multiple of 32; AVX2): the form of the AVX2 TQ2_0 table kernel. Native byte m
// of a block holds 4 codes (elements 128(m/32) + m%32 + 32l at bits 2l), i.e. two nibbles of two codes;
// here each 32-byte vector holds byte m of 32 rows, so one table of a nibble's 16 code pairs, loaded into
// both lanes, serves 32 rows (as in R32L), and the byte transpose back to native rows is plain.
//   units:  (rb, b), 2112 bytes each (R32TView in r16l_layout.h: stored K slice by K slice, 4 blocks per
//           slice): byte 32m + r32l_pos(r) is native qs byte m of block b of row 32rb + r (m < 64); then at
//           2048 the 32 rows' fp16 scales in row order.
#include <cstddef>
#include <cstdint>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"

namespace bonsai::cpu {

// True when `type` has a repacked form (R16 / R16M / R16T) and rows of n_in elements fit it:
// Q1_0 / Q2_0 with n_in % 512 == 0, TQ2_0 with n_in % 2048 == 0.
bool r16_eligible(TensorType type, int64_t n_in);
// True when a Q1_0 weight of this shape can take Layout::R16L: r16_eligible and n_out % 16 == 0.
bool r16l_eligible(TensorType type, int64_t n_in, int64_t n_out);
// True when a Q1_0 weight of this shape can take Layout::R32L: r16_eligible and n_out % 32 == 0.
bool r32l_eligible(TensorType type, int64_t n_in, int64_t n_out);
// True when a TQ2_0 weight of this shape can take Layout::R32T: n_in % 256 == 0 and n_out % 32 == 0.
bool r32t_eligible(TensorType type, int64_t n_in, int64_t n_out);
// Byte of row r (r < 32) inside each 32-byte column of an R32L / R32T code vector (pos(r) above).
constexpr int r32l_pos(int r) { return 16 * ((r % 8) / 4) + 4 * (r / 8) + r % 4; }

// The layout the model loader should give a weight of n_out rows for kernels of `isa`: Native when no
// SIMD kernel reads a repacked form (scalar ISA, ineligible shape); Q1_0 on
// AVX-512: R16L where the CPU has VBMI and the shape fits (oneDNN's AMX prefill reads it too), else R16M; Q1_0 on AVX2: R32L where the shape fits, else R16; Q2_0: R16;
// TQ2_0 R16T on AVX-512, R32T on AVX2 where the shape fits. BONSAI_CPU_Q1_LAYOUT=mask keeps R16M / R16
// (to compare the kernels).
Layout preferred_layout(TensorType type, int64_t n_in, int64_t n_out, Isa isa);
// Bytes of code per 512-element chunk (64 or 128) and fp16 scales per chunk (4 or 8).
int r16_code_bytes(TensorType type);
int r16_scales(TensorType type);

// Writes the R16 (or, for Q1_0, R16M / R16L / R32L) form of native weight `w` (layout Native, r16_eligible;
// r16l_eligible for R16L, r32l_eligible for R32L) into `out` (tensor_nbytes bytes, same as native).
// TQ2_0 takes target R16T (r16_eligible) or R32T (r32t_eligible) only.
void repack_r16(const Weight& w, uint8_t* out, Layout target = Layout::R16);

// Rebuilds native row `o` of R16 / R16M / R16T / R16L / R32L / R32T weight `w` into `row`
// (row_nbytes(type, n_in) bytes).
void unpack_row_r16(const Weight& w, int64_t o, uint8_t* row);

// TQ1_0 as TQ2_0. Where no table kernel decodes TQ1_0's base-3 digits (AVX2, and AVX-512 without VBMI),
// its arithmetic decoding keeps decode compute-bound (Zen 5, AVX2: 35 tok/s for the 1.7B shape against
// 93 for the same model in TQ2_0). The conversion is lossless: a TQ2_0 block holds the same 256 values
// (codes 0..2) and the same fp16 scale in 66 bytes instead of 54 (+22 % memory), and both types take
// Q8_K activations, so results stay those of the TQ1_0 kernels up to float summation order.
bool tq1_as_tq2(Isa isa);
// Writes the TQ2_0 form of native TQ1_0 weight `w` into `out` (tensor_nbytes(TQ2_0, ...) bytes).
void convert_tq1_to_tq2(const Weight& w, uint8_t* out);

}  // namespace bonsai::cpu
