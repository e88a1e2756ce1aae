#version 450
// Tensor-core matmul (VK_NV_cooperative_matrix; selected by the backend only when the device reports
// an (f16, f16, f32, f32) 16x16x16 subgroup shape, see coop_matrix.cpp). Same contract as matmul.comp:
// Y[c][r] = dot(W[r], X[c]). Each 256-thread workgroup (8 subgroups of 32) computes a 128 x TC tile
// of (rows x columns), TC = 64 or 128 (-DWIDE; two modules: the wider tile decodes each weight tile for twice
// the columns, the narrower gives twice the workgroups to small matrices); each subgroup its
// 32 x TC/2 part as 2 x TC/32 fragments of 16 x 16 with f32 accumulators. K is walked in steps of 32
// through two shared-memory buffers (rows of 32 + 8 halves, held as uvec4 so that a thread writes 8
// halves per store): while the subgroups multiply the fragments of step s from one buffer, the same
// threads decode W and convert X of step s + 1 into the other, so that decoding and tensor-core work
// overlap, with one barrier per step.
//
// Loading: thread t decodes 16 consecutive weights of one row (row t / 2, k half t % 2) and converts
// XPT = TC / 8 consecutive x of one column. For Q1_0, Q2_0, PTQ1_0, TQ1_0, TQ2_0 and I2_S it reads
// whole 16-bit words of codes and builds the f16 pairs with bit operations (TQ1_0: its 16 weights are
// one base-3 digit of 16 consecutive bytes; the per-element deq()
// of the other types costs a block lookup and byte loads per weight); those raw words and the x
// values of K step s + 2 are loaded while step s + 1 is decoded (two register slots), so that their
// memory latency overlaps a step of tensor-core work.
// The word paths read 16-bit halves and need 2-aligned weights (blocks of 18 and 66 bytes keep rows
// 2-aligned); an odd weight offset takes deq() as the other types do.
//
// Results leave through a per-subgroup 16 x 16 shared scratch so that partial tiles need no special
// case.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
#define WG 256
#define TR 128u
#if defined(WIDE)
#define TC 128u
#else
#define TC 64u
#endif
#define TK 32u
#define XPT (TC * TK / 256u)  // x values per thread and K step: 8 or 16
#define LDK4 5u  // uvec4 per shared row: TK + 8 halves (the padding spreads rows over the banks)
#include "common.glsl"

#if defined(XF16)
// -DXF16: X arrives as f16 (the backend converts it once per matmul, f32_to_f16): half the bytes per
// tile load and no conversion in the loader; x_off then counts halves.
layout(std430, binding = 1) readonly buffer Xbuf { uint16_t xh[]; };
layout(std430, binding = 1) readonly buffer Xbuf8 { uvec4 xh8[]; };
layout(std430, binding = 1) readonly buffer XbufF { float xv[]; };  // dequant.glsl's dot_chunk (unused here)
#else
layout(std430, binding = 1) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 1) readonly buffer Xbuf4 { vec4 xv4[]; };
#endif
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC {
    uint w_base;      // bytes (block types) or elements (F32/F16)
    uint row_stride;  // same unit
    uint ne0;
    uint rows;
    uint x_off;       // floats
    uint y_off;       // floats
    uint ncols;
} pc;

#include "dequant.glsl"
#if defined(TYPE_Q1_0) || defined(TYPE_Q2_0) || defined(TYPE_PTQ1_0) || defined(TYPE_TQ1_0) || defined(TYPE_TQ2_0) || \
    defined(TYPE_I2_S)
#define WORDS 1
layout(std430, binding = 0) readonly buffer Wb16 { uint16_t w16[]; };
#endif

// Two buffers: step s uses rows [(s % 2) * TR, + TR) of ws4 and [(s % 2) * TC, + TC) of xs4.
shared uvec4 ws4[2u * TR * LDK4];
shared uvec4 xs4[2u * TC * LDK4];
// The output scratch (8 subgroups x 16 x 16 floats) reuses the weight tiles (no longer read then):
// float (m, n) of subgroup s at word 4 * (s * 64 + n * 4 + m / 4) + m % 4 of ws4.

// ---- weights: raw words of a later K step (word types), decoded into ws4 ----
#if defined(TYPE_PTQ1_0) || defined(TYPE_TQ1_0) || defined(TYPE_TQ2_0) || defined(TYPE_I2_S)
#define NRAW 4u
#else
#define NRAW 1u
#endif
// Two register slots: the loads of step s + 2 go to slot s % 2 while step s + 1 is computed.
uint wraw[2][NRAW];  // codes of this thread's 16 weights
uint wd[2];          // their block's fp16 scale (bits)

#if defined(WORDS)
uint ld32(uint h) { return uint(w16[h]) | (uint(w16[h + 1u]) << 16); }
#endif

// Raw codes of weights k .. k + 15 of row r (k a multiple of 16 below ne0), word types only.
void load_w_raw(uint sl, uint r, uint k) {
#if defined(WORDS)
    uint ro = pc.w_base + r * pc.row_stride;
#if defined(TYPE_Q1_0)
    // 128 weights, 18 bytes: fp16 d, 16 bytes of sign bits (LSB first): one 16-bit half.
    uint h = (ro + (k / 128u) * 18u) >> 1u;
    wd[sl] = uint(w16[h]);
    wraw[sl][0] = uint(w16[h + 1u + (k % 128u) / 16u]);
#elif defined(TYPE_Q2_0)
    // 64 weights (PQ2_0: 128), 18 (34) bytes: fp16 d, codes; weight j = bits 2(j % 4) of byte j / 4.
    uint h = (ro + (k / Q2_BLK) * Q2_BLK_BYTES) >> 1u;
    wd[sl] = uint(w16[h]);
    wraw[sl][0] = ld32(h + 1u + (k % Q2_BLK) / 8u);
#elif defined(TYPE_TQ2_0)
    // 256 weights, 66 bytes: qs[64], fp16 d; weight 128 g + 32 l + m = bits 2 l of qs[32 g + m]:
    // weights k .. k + 15 (plane l = (k % 128) / 32) are bytes 32 g + m0 .. + 15, m0 = k % 32.
    uint h = (ro + (k / 256u) * 66u) >> 1u;
    wd[sl] = uint(w16[h + 32u]);
    uint q = h + ((k % 256u) / 128u) * 16u + (k % 32u) / 2u;
    [[unroll]] for (uint i = 0u; i < 4u; ++i) wraw[sl][i] = ld32(q + 2u * i);
#elif defined(TYPE_PTQ1_0)
    // 128 weights, 28 bytes: qs[24], qh[2], fp16 d at 26 (dequant.glsl). Weights k .. k + 15 (16-aligned,
    // kb = k % 128): kb < 80: digit kb / 16 of qs[0 .. 15]; else among qs[16 .. 23] and qh[0, 1] (bytes
    // 16 .. 27 of the block: w_pair sorts them out).
    uint kb = k % 128u;
    uint h = (ro + (k / 128u) * 28u) >> 1u;
    wd[sl] = uint(w16[h + 13u]);
    uint q = h + (kb < 80u ? 0u : 8u);
    [[unroll]] for (uint i = 0u; i < 4u; ++i) wraw[sl][i] = i < 3u || kb < 80u ? ld32(q + 2u * i) : 0u;
#elif defined(TYPE_TQ1_0)
    // 256 weights, 54 bytes: qs[48], qh[4], fp16 d at 52 (dequant.glsl). Weights k .. k + 15 (16-aligned)
    // are digit n of 16 consecutive bytes: k < 160: qs[k % 32 ..], n = k / 32; k < 240: qs[32 ..],
    // n = (k - 160) / 16; else digits 0..3 of qh[0..3] (w_pair sorts that case out).
    uint kb = k % 256u;
    uint h = (ro + (k / 256u) * 54u) >> 1u;
    wd[sl] = uint(w16[h + 26u]);
    uint q = h + (kb < 160u ? (kb % 32u) / 2u : kb < 240u ? 16u : 24u);
    [[unroll]] for (uint i = 0u; i < 4u; ++i) wraw[sl][i] = i == 0u || kb < 240u ? ld32(q + 2u * i) : 0u;  // qh: 4 bytes
#else
    // I2_S: 128 weights in 32 bytes, weight 32 g + m at bits 6 - 2 g of byte m: weights k .. k + 15
    // are bytes m0 .. m0 + 15 (m0 = k % 32) of block k / 128; one float32 scale per tensor.
    uint q = (ro + (k / 128u) * 32u + k % 32u) >> 1u;
    wd[sl] = floatBitsToUint(i2s_d);
    [[unroll]] for (uint i = 0u; i < 4u; ++i) wraw[sl][i] = ld32(q + 2u * i);
#endif
#endif
}

// f16 pair (weight 2 j, 2 j + 1) of the raw words, j < 8; kl = (k % 256) / 32 (TQ2_0: bit plane l; I2_S:
// plane 3 - kl % 4), or for TQ1_0 kl = (k % 256) / 16, for PTQ1_0 (k % 128) / 16.
uint w_pair(uint sl, uint j, uint kl) {
#if defined(TYPE_Q1_0)
    uint nb = ~wraw[sl][0] >> (2u * j);  // 1 = negative
    return (wd[sl] | (wd[sl] << 16)) ^ (((nb & 1u) << 15) | ((nb & 2u) << 30));
#elif defined(TYPE_PTQ1_0)
    float d = unpackHalf2x16(wd[sl]).x;
    // kl = (k % 128) / 16: weights e = 16 kl + 2j and e + 1 of the block, the same digit n of two consecutive
    // bytes (from b0 of the raw words): e < 80: digit e / 16 of qs[e % 16]; e < 120: digit (e - 80) / 8 of
    // qs[16 + (e - 80) % 8]; else digit (e - 120) / 2 of qh[0], qh[1] (raw bytes 8, 9).
    uint e = 16u * kl + 2u * j;
    uint n = e < 80u ? e / 16u : e < 120u ? (e - 80u) / 8u : (e - 120u) / 2u;
    uint b0 = e < 80u ? e % 16u : e < 120u ? (e - 80u) % 8u : 8u;
    uint v0 = (wraw[sl][b0 / 4u] >> (8u * (b0 % 4u))) & 255u, v1 = (wraw[sl][b0 / 4u] >> (8u * (b0 % 4u) + 8u)) & 255u;
    return packHalf2x16(vec2((float(tq1_digit(v0, n)) - 1.0) * d, (float(tq1_digit(v1, n)) - 1.0) * d));
#elif defined(TYPE_TQ1_0)
    float d = unpackHalf2x16(wd[sl]).x;
    // kl < 10: digit kl / 2 of bytes 2j, 2j + 1; kl < 15: digit kl - 10 of them; 15: weights 240 + 2j,
    // + 1 = digit 2j / 4 of qh bytes 2j % 4, + 1.
    uint n = kl < 10u ? kl / 2u : kl < 15u ? kl - 10u : (2u * j) / 4u;
    uint b0 = kl < 15u ? 2u * j : (2u * j) % 4u;
    uint v0 = (wraw[sl][b0 / 4u] >> (8u * (b0 % 4u))) & 255u, v1 = (wraw[sl][b0 / 4u] >> (8u * (b0 % 4u) + 8u)) & 255u;
    // (tq1_digit: dequant.glsl)
    return packHalf2x16(vec2((float(tq1_digit(v0, n)) - 1.0) * d, (float(tq1_digit(v1, n)) - 1.0) * d));
#elif defined(TYPE_Q2_0)
    // In packed f16 arithmetic: the two codes q (0..3) go into the mantissas of 1024.0 (0x6400: 1024 + q
    // exactly), minus 1025 gives q - 1 exactly, times d gives (q - 1) d: -d, 0, d and 2d, the same
    // halves as the f32 product rounded to f16 (2d overflows to inf alike). Two f16x2 operations per
    // pair instead of two int-to-float conversions, subtractions and products and a pack (the 1.7B
    // Q2_0 prompt tiles took 16 % longer than Q1_0's on an H200).
    uint q = wraw[sl][0] >> (4u * j);
    f16vec2 c = unpackFloat2x16(0x64006400u | (q & 3u) | ((q & 12u) << 14));
    f16vec2 d = unpackFloat2x16(wd[sl] * 0x10001u);
    return packFloat2x16((c - f16vec2(1025.0hf)) * d);
#elif defined(TYPE_TQ2_0) || defined(TYPE_I2_S)
#if defined(TYPE_TQ2_0)
    float d = unpackHalf2x16(wd[sl]).x;
    uint s = 2u * (kl % 4u);
#else
    float d = uintBitsToFloat(wd[sl]);
    uint s = 6u - 2u * (kl % 4u);  // planes in the other order
#endif
    uint m0 = 2u * j;  // weights m0, m0 + 1 of the 16: bytes m0, m0 + 1 of the raw words
    uint q0 = (wraw[sl][m0 / 4u] >> (8u * (m0 % 4u) + s)) & 3u;
    uint q1 = (wraw[sl][m0 / 4u] >> (8u * (m0 % 4u) + 8u + s)) & 3u;
    return packHalf2x16(vec2((float(q0) - 1.0) * d, (float(q1) - 1.0) * d));
#else
    return 0u;
#endif
}

// ---- activations: XPT values of a later K step (two slots as the weights) ----
#if defined(XF16)
uvec4 xr[2][XPT / 8u];  // 8 halves each, as they go to shared memory

uint xh_at(uint o, uint k) { return k < pc.ne0 ? uint(xh[o + k]) : 0u; }
void load_x(uint sl, uint c, uint k) {  // k a multiple of 8; zeros past ne0
    uint o = pc.x_off + c * pc.ne0;
    if (k + XPT <= pc.ne0 && ((pc.x_off | pc.ne0) & 7u) == 0u) {
        [[unroll]] for (uint i = 0u; i < XPT / 8u; ++i) xr[sl][i] = xh8[(o + k) / 8u + i];
    } else {
        [[unroll]] for (uint i = 0u; i < XPT / 8u; ++i) {
            uint kk = k + 8u * i;
            [[unroll]] for (uint j = 0u; j < 4u; ++j) xr[sl][i][j] = xh_at(o, kk + 2u * j) | (xh_at(o, kk + 2u * j + 1u) << 16);
        }
    }
}
#else
vec4 xr[2][XPT / 4u];

float x_at(uint o, uint k) { return k < pc.ne0 ? xv[o + k] : 0.0; }
void load_x(uint sl, uint c, uint k) {  // k a multiple of 8; zeros past ne0
    uint o = pc.x_off + c * pc.ne0;
    if (k + XPT <= pc.ne0 && ((pc.x_off | pc.ne0) & 3u) == 0u) {
        [[unroll]] for (uint i = 0u; i < XPT / 4u; ++i) xr[sl][i] = xv4[(o + k) / 4u + i];
    } else {
        [[unroll]] for (uint i = 0u; i < XPT / 4u; ++i) {
            uint kk = k + 4u * i;
            xr[sl][i] = vec4(x_at(o, kk), x_at(o, kk + 1u), x_at(o, kk + 2u), x_at(o, kk + 3u));
        }
    }
}
#endif

// Writes one 16 x 16 accumulator (tile rows fr.., columns fc..) through this subgroup's scratch,
// skipping rows/columns outside Y. Called in subgroup-uniform control flow.
void store_fragment(fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> a, uint fr, uint fc) {
    uint sbase = gl_SubgroupID * 64u;
    uint r0 = gl_WorkGroupID.x * TR + fr, c0 = gl_WorkGroupID.y * TC + fc;
    coopMatStoreNV(a, ws4, sbase, 4u, true);  // column major: (m, n) at n * 4 uvec4 + m
    subgroupMemoryBarrierShared();
    subgroupBarrier();
    for (uint e = gl_SubgroupInvocationID; e < 256u; e += gl_SubgroupSize) {
        uint r = r0 + e % 16u, c = c0 + e / 16u;
        if (r < pc.rows && c < pc.ncols) yv[pc.y_off + c * pc.rows + r] = uintBitsToFloat(ws4[sbase + e / 4u][e % 4u]);
    }
    subgroupMemoryBarrierShared();
    subgroupBarrier();
}

// Loader roles (set at the start of main); rows and columns past the end are clamped (finite values
// whose results are dropped).
uint wr, wk, wrow, xc, xk, xcol;
bool words;  // word decoding (uniform)
uint sr, sc;  // this subgroup's 32 rows and TC / 2 columns of the tile

// The global loads of K step k0 into register slot sl (nothing past ne0).
void prefetch(uint sl, uint k0) {
    if (words && k0 + wk < pc.ne0) load_w_raw(sl, wrow, k0 + wk);
    load_x(sl, xcol, k0 + xk);
}

#define ACC fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>
#if defined(WIDE)
#define ACC_PARAMS inout ACC acc00, inout ACC acc01, inout ACC acc10, inout ACC acc11, inout ACC acc02, inout ACC acc03, inout ACC acc12, inout ACC acc13
#define ACC_ARGS acc00, acc01, acc10, acc11, acc02, acc03, acc12, acc13
#else
#define ACC_PARAMS inout ACC acc00, inout ACC acc01, inout ACC acc10, inout ACC acc11
#define ACC_ARGS acc00, acc01, acc10, acc11
#endif

// Decodes / converts K step k0 from register slot sl into shared buffer b, then starts the global
// loads of step k0 + 2 TK into the same slot. Uniform control flow.
void store_step(uint k0, uint sl, uint b) {
    uint kw = k0 + wk;
    uint wo = (b * TR + wr) * LDK4 + wk / 8u;
    if (words) {
        [[unroll]] for (uint q = 0u; q < 2u; ++q) {
            uvec4 v = uvec4(0u);
            if (kw < pc.ne0) {
#if defined(TYPE_TQ1_0)
                uint kl = (kw % 256u) / 16u;
#elif defined(TYPE_PTQ1_0)
                uint kl = (kw % 128u) / 16u;
#else
                uint kl = (kw % 256u) / 32u;
#endif
                v = uvec4(w_pair(sl, 4u * q, kl), w_pair(sl, 4u * q + 1u, kl), w_pair(sl, 4u * q + 2u, kl),
                          w_pair(sl, 4u * q + 3u, kl));
            }
            ws4[wo + q] = v;
        }
    } else {
        uint ro = pc.w_base + wrow * pc.row_stride;
        [[unroll]] for (uint q = 0u; q < 2u; ++q) {
            uint p[4];
            [[unroll]] for (uint i = 0u; i < 4u; ++i) {
                uint k = kw + 8u * q + 2u * i;
                float a = k < pc.ne0 ? deq(ro, k) : 0.0, c = k + 1u < pc.ne0 ? deq(ro, k + 1u) : 0.0;
                p[i] = packHalf2x16(vec2(a, c));
            }
            ws4[wo + q] = uvec4(p[0], p[1], p[2], p[3]);
        }
    }
    uint xo = (b * TC + xc) * LDK4 + xk / 8u;
#if defined(XF16)
    [[unroll]] for (uint i = 0u; i < XPT / 8u; ++i) xs4[xo + i] = xr[sl][i];
#else
    [[unroll]] for (uint i = 0u; i < XPT / 8u; ++i)
        xs4[xo + i] = uvec4(packHalf2x16(xr[sl][2u * i].xy), packHalf2x16(xr[sl][2u * i].zw),
                            packHalf2x16(xr[sl][2u * i + 1u].xy), packHalf2x16(xr[sl][2u * i + 1u].zw));
#endif
    if (k0 + 2u * TK < pc.ne0) prefetch(sl, k0 + 2u * TK);  // in flight during the next step's products
}

// The fragment products of the step in shared buffer b.
void mma_step(uint b, ACC_PARAMS) {
    uint wb = b * TR * LDK4, xb = b * TC * LDK4;
    [[unroll]] for (uint ks = 0u; ks < TK / 16u; ++ks) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a0, a1, b0, b1;
        // Offsets and strides count uvec4 (8 halves). A = W rows (row major: (m, k) at m * LDK4);
        // B = X^T ((k, n) at n * LDK4: column major).
        coopMatLoadNV(a0, ws4, wb + (sr + 0u) * LDK4 + 2u * ks, LDK4, false);
        coopMatLoadNV(a1, ws4, wb + (sr + 16u) * LDK4 + 2u * ks, LDK4, false);
        coopMatLoadNV(b0, xs4, xb + (sc + 0u) * LDK4 + 2u * ks, LDK4, true);
        coopMatLoadNV(b1, xs4, xb + (sc + 16u) * LDK4 + 2u * ks, LDK4, true);
        acc00 = coopMatMulAddNV(a0, b0, acc00);
        acc01 = coopMatMulAddNV(a0, b1, acc01);
        acc10 = coopMatMulAddNV(a1, b0, acc10);
        acc11 = coopMatMulAddNV(a1, b1, acc11);
#if defined(WIDE)
        coopMatLoadNV(b0, xs4, xb + (sc + 32u) * LDK4 + 2u * ks, LDK4, true);
        coopMatLoadNV(b1, xs4, xb + (sc + 48u) * LDK4 + 2u * ks, LDK4, true);
        acc02 = coopMatMulAddNV(a0, b0, acc02);
        acc03 = coopMatMulAddNV(a0, b1, acc03);
        acc12 = coopMatMulAddNV(a1, b0, acc12);
        acc13 = coopMatMulAddNV(a1, b1, acc13);
#endif
    }
}

void main() {
    uint r0 = gl_WorkGroupID.x * TR;
    uint c0 = gl_WorkGroupID.y * TC;
    uint t = gl_LocalInvocationID.x;
    uint sg = gl_SubgroupID;  // 0..7 (subgroup size 32 is a selection condition)
    sr = (sg % 4u) * 32u;
    sc = (sg / 4u) * (TC / 2u);
    wr = t / 2u;
    wk = (t % 2u) * 16u;
    wrow = min(r0 + wr, pc.rows - 1u);
    xc = t / (TK / XPT);
    xk = (t % (TK / XPT)) * XPT;
    xcol = min(c0 + xc, pc.ncols - 1u);
    deq_init();
#if defined(WORDS)
    words = (pc.w_base & 1u) == 0u;
#else
    words = false;
#endif

    ACC acc00 = ACC(0.0);
    ACC acc01 = acc00, acc10 = acc00, acc11 = acc00;
#if defined(WIDE)
    ACC acc02 = acc00, acc03 = acc00, acc12 = acc00, acc13 = acc00;
#endif
    // Step s lives in register slot s % 2 (until decoded) and shared buffer s % 2.
    prefetch(0u, 0u);
    if (TK < pc.ne0) prefetch(1u, TK);
    store_step(0u, 0u, 0u);
    barrier();
    for (uint k0 = 0u; k0 < pc.ne0; k0 += 2u * TK) {
        // Uniform branches: the next step is decoded into the other buffer while this one is multiplied.
        if (k0 + TK < pc.ne0) store_step(k0 + TK, 1u, 1u);
        mma_step(0u, ACC_ARGS);
        barrier();
        if (k0 + TK >= pc.ne0) break;
        if (k0 + 2u * TK < pc.ne0) store_step(k0 + 2u * TK, 0u, 0u);
        mma_step(1u, ACC_ARGS);
        barrier();
    }
    // Every subgroup is done with the weight tiles (the last barrier): they become the output scratch.
    store_fragment(acc00, sr, sc);
    store_fragment(acc01, sr, sc + 16u);
    store_fragment(acc10, sr + 16u, sc);
    store_fragment(acc11, sr + 16u, sc + 16u);
#if defined(WIDE)
    store_fragment(acc02, sr, sc + 32u);
    store_fragment(acc03, sr, sc + 48u);
    store_fragment(acc12, sr + 16u, sc + 32u);
    store_fragment(acc13, sr + 16u, sc + 48u);
#endif
}
