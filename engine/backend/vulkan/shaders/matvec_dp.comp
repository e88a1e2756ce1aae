#version 450
// y[row] (+)= dot(W[row], x) with integer dot products (VK_KHR_shader_integer_dot_product, SPIR-V
// OpSDot / OpSUDot on 4 packed bytes: one instruction per 4 weights) for Q1_0, Q2_0, PQ2_0, PTQ1_0,
// TQ1_0, TQ2_0, Q8_0, Q4_0 and I2_S (one module per type, -DTYPE_<name>). Used only on devices that enabled the feature
// (ops.cpp); the others keep matvec_w.comp / matvec.comp.
//
// x is quantized by every workgroup, chunk by chunk, into shared memory: int8 values with one float
// scale per 32 (d = max|x| / 127, q = round(x / d), llama.cpp's Q8_0 rounding of activations), after
// the optional transforms of the input (mode bits as in matvec_w.comp: bit 1 rms_norm, bit 2 SwiGLU,
// bit 0 residual add); I2_S instead uses one scale per row (ROW_SCALE, see its section). A 32-element
// block of W.x is then an integer sum S of 8 packed dot products (of 4 weights each), and the row's
// sum is the sum over blocks of d_w * d_x * (S - offset * sum(q)), where the offset is what the type's
// codes carry (Q2_0 / TQ2_0 / I2_S codes 0..2 for -1..1: 1; Q4_0: 8; Q1_0 bits b for 2b - 1: the sum
// is 2 S - sum(q)).
//
// Work layout as in matvec_w.comp: 8 teams of 32 lanes, R_PER_TEAM rows per team; lane l of a team
// takes the "units" l, l + 32, ... of each row: a unit is a weight block (Q1_0, Q2_0, PQ2_0, Q8_0,
// Q4_0, I2_S), half a block (TQ2_0: the 32 bytes of one half hold 128 weights; Q1_0 and PQ2_0 with
// HALF, for rows of fewer than 32 blocks) or a quarter (TQ2_0 with HALF), whose code words the lane
// loads in one go. The unit's x words (4 int8 each) sit contiguous in shared memory, in the order
// the type's code words need them (see xelem), at a swizzled address (sw) so that the 32 lanes,
// each reading its own unit's words, hit 32 different banks.
//
// Split-K (pc.splits > 1) as in matvec_w.comp, with slices of whole XC chunks.
//
// Rounded by the producer (binding 5, decode steps; VulkanMatvecRounding): instead of every workgroup of
// every matvec rounding its float input, the matvec that produces a vector can round it once (variant
// ROUNDED_OUT), and the next matvec copies the ready words (ROUNDED_IN). Separate modules, so that the
// plain one carries none of this code (registers). The producer's workgroups own whole blocks
// of 32 rows (RPW a multiple of 32), so each rounds its final values y (after the residual add and the
// split-K merge) times the next rms_norm's weights g (binding 3): scale d = max|y g| / 127 and q = round(y
// g / d) per 32, with the consumer's element order (pc.q_order), plus the sums of q per 16 and of y^2 per
// 32. The norm's inv = 1 / sqrt(mean(y^2) + eps) is not known to any one workgroup; it does not change
// the rounding (q of y g inv with scale d inv is q of y g with scale d), so the consumer sums the
// partials and multiplies the scales by inv. Layout of a rounded vector of n values (words; the
// producer's at pc.q_off, the consumer's at pc.q_in):
// [0, n/4) the int8 words (word 8b + k holds elements 32b + xelem(k, 0..3)), then n/32 scales (float
// bits), n/16 sums of q, n/32 sums of y^2 (float bits): 3n/8 words.
// A consumer with a norm takes its whole row in one chunk (ne0 <= XC, no split-K); without one
// (the SwiGLU output rounded by a gate|up matvec, for the down projection) it copies chunk by chunk.
// Both (ROUNDED_IN and ROUNDED_OUT, "io" modules): a matvec whose input was rounded by its producer
// rounds its own output too. Mode bit 3 (gate|up, no split-K): the output rows are gate then up, and
// what gets rounded is silu(gate) * up (rows / 2 values, no norm): the workgroups of a block of gate
// and of the same block of up both copy their values into the split-K scratch (binding 4, coherent),
// and the second to finish (a counter per block there) reads both back and rounds the block for the
// down projection.
#define WG 256
#define TEAMS 8u
#ifndef R_PER_TEAM
#define R_PER_TEAM 4u
#endif
#define RPW (TEAMS * R_PER_TEAM)
#define XC 4096u          // x elements per chunk (ops.cpp: the split-K slices are multiples of it)
#define SPLIT_CNT 65536u  // counters at the start of the split-K scratch buffer (ops.cpp: same value)
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_spirv_intrinsics : require

// Packed 4 x 8-bit dot products (SPV_KHR_integer_dot_product; 6018 = DotProductInput4x8BitPacked,
// 6019 = DotProduct; the literal 0 = PackedVectorFormat4x8Bit). sdot: both signed; sudot: a signed,
// b unsigned.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4450)
int sdot_raw(uint a, uint b, spirv_literal int format);
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4452)
int sudot_raw(uint a, uint b, spirv_literal int format);
int sdot(uint a, uint b) { return sdot_raw(a, b, 0); }
int sudot(uint a, uint b) { return sudot_raw(a, b, 0); }

layout(std430, binding = 0) readonly buffer Wb32 { uint wu[]; };
layout(std430, binding = 0) readonly buffer Wb16 { uint16_t wh[]; };

// Per type: U weights per unit, NW code words per unit; the unit's code bytes start at cbase and its
// fp16 scale at sbase (unit u of the row starting at byte ro).
// HALF (Q1_0, PQ2_0; ops.cpp: rows of fewer than 32 blocks, e.g. 2048 wide): a unit is half a block,
// so that a row still gives each of a team's 32 lanes a unit (both halves read the block's scale).
#if defined(TYPE_Q1_0)
// 128 weights, 18 bytes: fp16 d, 16 bytes of sign bits (LSB first); bit 1 -> +d, 0 -> -d.
#if defined(HALF)
#define U 64u
#define NW 2u
uint sbase(uint ro, uint u) { return ro + (u / 2u) * 18u; }
uint cbase(uint ro, uint u) { return ro + (u / 2u) * 18u + 2u + (u % 2u) * 8u; }
#else
#define U 128u
#define NW 4u
uint sbase(uint ro, uint u) { return ro + u * 18u; }
uint cbase(uint ro, uint u) { return ro + u * 18u + 2u; }
#endif
#elif defined(TYPE_Q2_0)
// 64 weights (PQ2_0: 128), 18 (34) bytes: fp16 d, codes; weight j = bits 2(j%4).. of byte j/4; (q-1) d.
#if defined(HALF)
#define U (Q2_BLK / 2u)
#define NW (Q2_BLK / 32u)
uint sbase(uint ro, uint u) { return ro + (u / 2u) * Q2_BLK_BYTES; }
uint cbase(uint ro, uint u) { return ro + (u / 2u) * Q2_BLK_BYTES + 2u + (u % 2u) * (Q2_BLK / 8u); }
#else
#define U Q2_BLK
#define NW (Q2_BLK / 16u)
uint sbase(uint ro, uint u) { return ro + u * Q2_BLK_BYTES; }
uint cbase(uint ro, uint u) { return ro + u * Q2_BLK_BYTES + 2u; }
#endif
#elif defined(TYPE_TQ2_0)
// 256 weights, 66 bytes: qs[64], fp16 d at 64; weight 128h + 32l + m = (qs[32h + m] >> 2l) & 3, (q-1) d.
// A unit is one half h (32 bytes, 128 weights); with HALF a quarter: 16 bytes, words 4s .. 4s + 3 of a
// half, whose weights 32l + 4p + b (p = 4s .. 4s + 3) are half of each of the half's 4 x blocks.
#if defined(HALF)
#define U 64u
#define NW 4u
#define NXB 4u  // x blocks a unit touches (each half of it)
uint sbase(uint ro, uint u) { return ro + (u / 4u) * 66u + 64u; }
uint cbase(uint ro, uint u) { return ro + (u / 4u) * 66u + ((u / 2u) % 2u) * 32u + (u % 2u) * 16u; }
#else
#define U 128u
#define NW 8u
uint sbase(uint ro, uint u) { return ro + (u / 2u) * 66u + 64u; }
uint cbase(uint ro, uint u) { return ro + (u / 2u) * 66u + (u % 2u) * 32u; }
#endif
#elif defined(TYPE_TQ1_0)
// 256 weights, 54 bytes: qs[48], qh[4], fp16 d at 52 (formats.md 2.3.8); trit n of byte b is
// ((b * 3^n mod 256) * 3) >> 8, value (t - 1) d. A unit is half h of a block (128 weights): qs bytes
// 16h .. 16h + 15 (trits n < 5: elements 32n + 16h + j), qs bytes 32 + 8h .. + 7 (elements 160 + 16n +
// 8h + j) and qh bytes 2h, 2h + 1 (trits n < 4: elements 240 + 4n + 2h + j). Its x words are not one
// run, so unit_dot_direct reads them from shared memory itself (X_DIRECT).
#define U 128u
#define NW 7u  // 4 + 2 code words, then the 2 qh bytes in the low half of word 6
#define NXB 8u
#define X_DIRECT 1
uint sbase(uint ro, uint u) { return ro + (u / 2u) * 54u + 52u; }
#elif defined(TYPE_PTQ1_0)
// PrismML's PTQ1_0: 128 weights, 28 bytes (7 words): qs[24], qh[2], fp16 d at 26 (bonsai-formats.md 3.2);
// trits as TQ1_0's. A unit is one block: qs bytes 0 .. 15 (trits n < 5: elements 16n + j), qs bytes
// 16 .. 23 (elements 80 + 8n + j) and qh bytes 0, 1 (trits n < 4: elements 120 + 2n + j). Its x words
// are not one run either (X_DIRECT, unit_dot_direct). No HALF: a 2048-wide row (16 blocks) leaves half of
// a team's lanes idle.
#define U 128u
#define NW 7u  // 4 + 2 code words, then the 2 qh bytes in the low half of word 6
#define X_DIRECT 1
uint sbase(uint ro, uint u) { return ro + u * 28u + 26u; }
#elif defined(TYPE_Q8_0)
// 32 weights, 34 bytes: fp16 d, int8 q[32].
#define U 32u
#define NW 8u
uint sbase(uint ro, uint u) { return ro + u * 34u; }
uint cbase(uint ro, uint u) { return ro + u * 34u + 2u; }
#elif defined(TYPE_Q4_0)
// 32 weights, 18 bytes: fp16 d, 16 bytes; weight j = low nibble of byte j, j + 16 = high nibble; (q-8) d.
#define U 32u
#define NW 4u
uint sbase(uint ro, uint u) { return ro + u * 18u; }
uint cbase(uint ro, uint u) { return ro + u * 18u + 2u; }
#elif defined(TYPE_I2_S)
// BitNet b1.58 (formats.md 2.3.10): blocks of 128 weights in 32 bytes, weight 32g + m at bits 6 - 2g of
// byte m, value (q - 1) s with ONE float32 scale s after the tensor's rows (i2s_d). Its input is already
// rounded per token to int8 steps of max|x| / 127 (VulkanBackend::quantize_i8, as BitNet's fork does),
// so x is quantized with that one row scale (ROW_SCALE): q = x * 127 / max|x| recovers those integers
// exactly and the products are the fork's integer ones. (ops.cpp: no input transforms with I2_S.)
#define U 128u
#define NW 8u
#define ROW_SCALE 1
uint cbase(uint ro, uint u) { return ro + u * 32u; }
float i2s_d = 1.0;  // the tensor's scale (read at the start of main())
#else
#error "matvec_dp: define TYPE_Q1_0, TYPE_Q2_0, TYPE_PQ2_0, TYPE_PTQ1_0, TYPE_TQ1_0, TYPE_TQ2_0, TYPE_Q8_0, TYPE_Q4_0 or TYPE_I2_S"
#endif
#define XW (U / 4u)  // x words per unit
#ifndef NXB
#define NXB (U / 32u) // x blocks (of 32) per unit
#endif


// Element (index inside its 32-block) held by byte b of x word k of the block (k < 8): the order in
// which a code word's extracted bytes line up with x.
uint xelem(uint k, uint b) {
#if defined(TYPE_Q1_0)
    return k + 8u * b;        // (w >> k) & 0x01010101: bits k, 8 + k, 16 + k, 24 + k of a code word
#elif defined(TYPE_Q2_0)
    return 16u * (k / 4u) + (k % 4u) + 4u * b;  // (w >> 2f) & 0x03030303: weights f, 4 + f, 8 + f, 12 + f
#else
    return 4u * k + b;        // natural order
#endif
}

// xelem for the element order `order` of another type (a producer rounds for its consumer): 1 Q1_0,
// 2 Q2_0 / PQ2_0, 0 the natural order of the others.
uint xelem_of(uint order, uint k, uint b) {
    if (order == 1u) return k + 8u * b;
    if (order == 2u) return 16u * (k / 4u) + (k % 4u) + 4u * b;
    return 4u * k + b;
}

// Shared memory: the chunk's x words (swizzled), the scale and the partial sums of q per block, and
// scratch (per-thread max |x| while quantizing; the partial row sums of the final reduction).
shared uint xq[XC / 4u];
shared float xd[XC / 32u];
shared int qp[WG];
shared float scr[WG * R_PER_TEAM];
shared uint last_sh;  // split-K: this workgroup finished its row block last
#define RED scr
#define LAST_SET(v) last_sh = (v) ? 1u : 0u
#define LAST_IS_SET (last_sh != 0u)
#if defined(ROUNDED_OUT)
shared float fin[RPW];  // the row block's final values (ROW_FINAL)
shared uint blk_sh[RPW / 32u];  // the rounded output block of each 32-row group of the workgroup (~0u: none)
#define ROW_FINAL(i, v) fin[i] = v
#endif
#include "matvec_io.glsl"
#if defined(ROUNDED_IN) || defined(ROUNDED_OUT)
layout(std430, binding = 5) buffer Qxb { uint qxw[]; };  // the rounded vector
#endif
// Word i of the chunk is stored at sw(i): consecutive units' words differ in their low bits.
uint sw(uint i) { return i ^ ((i >> 5u) & 31u); }

// Chunk word index of x word i of unit u (the unit's words are contiguous but for TQ2_0 HALF, whose
// quarter takes words 4s .. 4s + 3 of each of its half's 4 blocks of 8 words), and the unit's x blocks:
// their sum of q (over the part the unit touches) and scale.
uint unit_xword(uint u, uint i) {
#if defined(TYPE_TQ2_0) && defined(HALF)
    return (u / 2u) * 32u + 8u * (i / 4u) + 4u * (u % 2u) + i % 4u;
#else
    return u * XW + i;
#endif
}
void unit_blocks(uint u, out int qs[NXB], out float dx[NXB]) {
    [[unroll]] for (uint j = 0u; j < NXB; ++j) {
#if defined(TYPE_TQ2_0) && defined(HALF)
        qs[j] = qp[((u / 2u) * 32u + 8u * j + 4u * (u % 2u)) / 4u];  // (qp: one per 4 words)
        dx[j] = xd[(u / 2u) * 4u + j];
#else
        uint b = u * NXB + j;
        qs[j] = qp[2u * b] + qp[2u * b + 1u];
        dx[j] = xd[b];
#endif
    }
}

float ld_half(uint o) { return unpackHalf2x16(uint(wh[o >> 1u])).x; }

// The NW code words of the unit at byte offset o (even): assembled from the aligned words covering
// them (the last one clamped to the buffer).
void load_codes(uint o, out uint cw[NW]) {
    uint a = o >> 2u;
    bool odd = (o & 2u) != 0u;
    uint prev = wu[a];
    [[unroll]] for (uint i = 0u; i < NW; ++i) {
        uint next = wu[min(a + i + 1u, uint(wu.length()) - 1u)];
        cw[i] = odd ? (prev >> 16u) | (next << 16u) : prev;
        prev = next;
    }
}

#if defined(TYPE_TQ1_0) || defined(TYPE_PTQ1_0)
// The 32-bit word at byte offset o (even) of the weights.
uint word_at(uint o) {
    uint a = o >> 2u;
    if ((o & 2u) == 0u) return wu[a];
    return (wu[a] >> 16u) | (wu[min(a + 1u, uint(wu.length()) - 1u)] << 16u);
}
#if defined(TYPE_TQ1_0)
// The unit's code words (see TYPE_TQ1_0 above) from the row at byte offset ro.
void load_direct(uint ro, uint u, out uint cw[NW]) {
    uint o = ro + (u / 2u) * 54u, h = u % 2u;
    [[unroll]] for (uint i = 0u; i < 4u; ++i) cw[i] = word_at(o + 16u * h + 4u * i);
    [[unroll]] for (uint i = 0u; i < 2u; ++i) cw[4u + i] = word_at(o + 32u + 8u * h + 4u * i);
    cw[6] = uint(wh[(o + 48u + 2u * h) >> 1u]);
}
#else
// The block's 7 words (see TYPE_PTQ1_0 above) from the row at byte offset ro.
void load_direct(uint ro, uint u, out uint cw[NW]) {
    uint o = ro + u * 28u;
    [[unroll]] for (uint i = 0u; i < 6u; ++i) cw[i] = word_at(o + 4u * i);
    cw[6] = uint(wh[(o + 24u) >> 1u]);
}
#endif
// Trits of the 4 bytes of e | o << 8 (e, o: the even and odd bytes, each in a 16-bit lane as
// b * 3^n mod 256) as signed bytes t - 1, and the lanes advanced to n + 1: p * 3 gives both the trit
// (bits 8-9) and the next p (bits 0-7); 765 at most, so the lanes never carry into each other.
uint next_trits(inout uint e, inout uint o) {
    uint me = e * 3u, mo = o * 3u;
    e = me & 0x00FF00FFu;
    o = mo & 0x00FF00FFu;
    uint t = ((me >> 8u) & 0x00030003u) | (((mo >> 8u) & 0x00030003u) << 8u);
    return (t + 0x7F7F7F7Fu) ^ 0x80808080u;  // 0, 1, 2 -> -1, 0, 1 per byte (no carries)
}
#if defined(TYPE_TQ1_0)
// Sum over the unit's 8 x blocks of d_x * (the block's integer dot product with the trits - 1).
float unit_dot_direct(uint cw[NW], uint u) {
    uint xb = (u / 2u) * 8u, h = u % 2u;  // the block's first x block in the chunk; the half
    int s[8];
    [[unroll]] for (uint j = 0u; j < 8u; ++j) s[j] = 0;
    [[unroll]] for (uint i = 0u; i < 6u; ++i) {
        uint e = cw[i] & 0x00FF00FFu, o = (cw[i] >> 8u) & 0x00FF00FFu;
        [[unroll]] for (uint n = 0u; n < 5u; ++n) {
            uint st = next_trits(e, o);
            // qs[0..31]: x block n, word 4h + i; qs[32..47]: x block 5 + n / 2, word 4 (n % 2) + 2h + i - 4.
            uint b = i < 4u ? n : 5u + n / 2u;
            uint w = i < 4u ? 4u * h + i : 4u * (n % 2u) + 2u * h + (i - 4u);
            s[b] += sdot(xq[sw((xb + b) * 8u + w)], st);
        }
    }
    {
        // qh: trit n of bytes 2h, 2h + 1 -> x block 7, word 4 + n, bytes 2h, 2h + 1 (the others masked).
        uint e = cw[6] & 0x00FFu, o = (cw[6] >> 8u) & 0x00FFu;
        [[unroll]] for (uint n = 0u; n < 4u; ++n) {
            uint st = (next_trits(e, o) & 0xFFFFu) << (16u * h);
            s[7] += sdot(xq[sw((xb + 7u) * 8u + 4u + n)], st);
        }
    }
    float t = 0.0;
    [[unroll]] for (uint j = 0u; j < 8u; ++j) t += xd[xb + j] * float(s[j]);
    return t;
}
#else
// Sum over the block's 4 x blocks of d_x * (the block's integer dot product with the trits - 1). Code
// word i < 4 holds qs bytes 4i .. 4i + 3: trit n gives elements 16n + 4i + b, i.e. x block n / 2, word
// 4 (n % 2) + i; words 4, 5 hold qs bytes 16 .. 23: elements 80 + 8n + 4 (i - 4) + b.
float unit_dot_direct(uint cw[NW], uint u) {
    uint xb = u * 4u;  // the block's first x block in the chunk
    int s[4];
    [[unroll]] for (uint j = 0u; j < 4u; ++j) s[j] = 0;
    [[unroll]] for (uint i = 0u; i < 6u; ++i) {
        uint e = cw[i] & 0x00FF00FFu, o = (cw[i] >> 8u) & 0x00FF00FFu;
        [[unroll]] for (uint n = 0u; n < 5u; ++n) {
            uint st = next_trits(e, o);
            uint el = i < 4u ? 16u * n + 4u * i : 80u + 8u * n + 4u * (i - 4u);  // the word's first element
            s[el / 32u] += sdot(xq[sw((xb + el / 32u) * 8u + (el % 32u) / 4u)], st);
        }
    }
    {
        // qh: trit n of bytes 0, 1 -> elements 120 + 2n, + 1: x block 3, word 6 + n / 2, bytes 2 (n % 2), + 1.
        uint e = cw[6] & 0x00FFu, o = (cw[6] >> 8u) & 0x00FFu;
        [[unroll]] for (uint n = 0u; n < 4u; ++n) {
            uint st = (next_trits(e, o) & 0xFFFFu) << (16u * (n % 2u));
            s[3] += sdot(xq[sw((xb + 3u) * 8u + 6u + n / 2u)], st);
        }
    }
    float t = 0.0;
    [[unroll]] for (uint j = 0u; j < 4u; ++j) t += xd[xb + j] * float(s[j]);
    return t;
}
#endif
#endif

#if !defined(X_DIRECT)
// Sum over the unit's x blocks of d_x * (the block's integer dot product with the codes, offset
// removed); xw: the unit's x words, qs: sum of q per block, dx: scale per block.
float unit_dot(uint cw[NW], uint xw[XW], int qs[NXB], float dx[NXB]) {
    float t = 0.0;
#if defined(TYPE_Q1_0)
    [[unroll]] for (uint i = 0u; i < NW; ++i) {
        int s = 0;
        [[unroll]] for (uint k = 0u; k < 8u; ++k) s += sudot(xw[8u * i + k], (cw[i] >> k) & 0x01010101u);
        t += dx[i] * float(2 * s - qs[i]);
    }
#elif defined(TYPE_Q2_0)
    [[unroll]] for (uint j = 0u; j < NXB; ++j) {
        int s = 0;
        [[unroll]] for (uint h = 0u; h < 2u; ++h)
            [[unroll]] for (uint f = 0u; f < 4u; ++f)
                s += sudot(xw[8u * j + 4u * h + f], (cw[2u * j + h] >> (2u * f)) & 0x03030303u);
        t += dx[j] * float(s - qs[j]);
    }
#elif defined(TYPE_TQ2_0)
    // Plane l of code word p: weights 32l + 4p + b, i.e. x block l, word p (HALF: p of the quarter).
    [[unroll]] for (uint l = 0u; l < 4u; ++l) {
        int s = 0;
        [[unroll]] for (uint p = 0u; p < NW; ++p) s += sudot(xw[NW * l + p], (cw[p] >> (2u * l)) & 0x03030303u);
        t += dx[l] * float(s - qs[l]);
    }
#elif defined(TYPE_Q8_0)
    int s = 0;
    [[unroll]] for (uint i = 0u; i < 8u; ++i) s += sdot(xw[i], cw[i]);
    t = dx[0] * float(s);
#elif defined(TYPE_I2_S)
    // Plane g of code word p (bits 6 - 2g of each byte): weights 32g + 4p + b, i.e. x block g, word p.
    [[unroll]] for (uint g = 0u; g < 4u; ++g) {
        int s = 0;
        [[unroll]] for (uint p = 0u; p < 8u; ++p) s += sudot(xw[8u * g + p], (cw[p] >> (6u - 2u * g)) & 0x03030303u);
        t += dx[g] * float(s - qs[g]);
    }
#else  // Q4_0
    int s = 0;
    [[unroll]] for (uint i = 0u; i < 4u; ++i)
        s += sudot(xw[i], cw[i] & 0x0F0F0F0Fu) + sudot(xw[4u + i], (cw[i] >> 4u) & 0x0F0F0F0Fu);
    t = dx[0] * float(s - 8 * qs[0]);
#endif
    return t;
}
#endif

#if defined(ROUNDED_OUT)
// Rounds value v (times the next norm's weight) of thread tid < RPW, with y for the sum of squares, into
// block blk_sh[tid / 32] of the rounded vector of n values at pc.q_off (layout at the top); threads
// 32j .. 32j + 31 hold block j's 32 values in order, 0 where they do not exist. Uniform control flow.
// With 32-wide subgroups (NVIDIA) a block's max and sum of squares are one subgroup operation each (the
// producer's epilogue is on the decode step's critical path); other subgroup sizes reduce through
// shared memory.
void round_blocks(float v, float y, uint n) {
    uint tid = gl_LocalInvocationID.x;
    uint nw = n / 4u, nb = n / 32u;
    bool sg32 = gl_SubgroupSize == 32u;
    float am = 0.0;
    if (sg32) {
        am = subgroupMax(abs(v));
        float ss = subgroupAdd(y * y);
        if (tid < RPW && tid % 32u == 0u && blk_sh[tid / 32u] != ~0u) {
            uint b = blk_sh[tid / 32u];
            qxw[pc.q_off + nw + b] = floatBitsToUint(am / 127.0);
            qxw[pc.q_off + nw + 3u * nb + b] = floatBitsToUint(ss);
        }
    } else {
        scr[tid] = abs(v);  // scr, qp: free once finish_rows is done
        scr[WG + tid] = y * y;
    }
    barrier();
    if (!sg32) {
        if (tid < RPW) {
            [[unroll]] for (uint i = 0u; i < 32u; ++i) am = max(am, scr[(tid & ~31u) + i]);
        }
        if (tid < RPW && tid % 32u == 0u && blk_sh[tid / 32u] != ~0u) {
            uint b = blk_sh[tid / 32u];
            float ss = 0.0;
            [[unroll]] for (uint i = 0u; i < 32u; ++i) ss += scr[WG + tid + i];
            qxw[pc.q_off + nw + b] = floatBitsToUint(am / 127.0);
            qxw[pc.q_off + nw + 3u * nb + b] = floatBitsToUint(ss);
        }
    }
    float id = am > 0.0 ? 127.0 / am : 0.0;
    qp[tid] = clamp(int(round(v * id)), -127, 127);
    barrier();
    if (tid < RPW / 4u) {
        // Word k of block bl: elements xelem(k, c) of the consumer's order.
        uint bl = tid / 8u, k = tid % 8u;
        if (blk_sh[bl] != ~0u) {
            uint w = 0u;
            [[unroll]] for (uint c = 0u; c < 4u; ++c) w |= uint(qp[32u * bl + xelem_of(pc.q_order, k, c)] & 255) << (8u * c);
            qxw[pc.q_off + 8u * blk_sh[bl] + k] = w;
        }
    } else if (tid >= 64u && tid < 64u + RPW / 16u) {
        // Sum of q over words 4h .. 4h + 3 of block bl (what one consumer thread stages).
        uint hh = tid - 64u, bl = hh / 2u, h = hh % 2u;
        if (blk_sh[bl] != ~0u) {
            int sq = 0;
            [[unroll]] for (uint k = 0u; k < 4u; ++k)
                [[unroll]] for (uint c = 0u; c < 4u; ++c) sq += qp[32u * bl + xelem_of(pc.q_order, 4u * h + k, c)];
            qxw[pc.q_off + nw + nb + 2u * blk_sh[bl] + h] = uint(sq);
        }
    }
}

// Rounds the final values of row block rb (fin, RPW rows) times the next norm's weights (binding 3).
void round_rows(uint rb) {
    uint tid = gl_LocalInvocationID.x;
    uint row = rb * RPW + tid;
    bool ok = tid < RPW && row < pc.rows;
    if (tid < RPW / 32u) blk_sh[tid] = rb * (RPW / 32u) + tid < pc.rows / 32u ? rb * (RPW / 32u) + tid : ~0u;
    float y = ok ? fin[tid] : 0.0;
    float v = ok ? y * nv[pc.nw_off + row] : 0.0;
    barrier();
    round_blocks(v, y, pc.rows);
}

#if defined(ROUNDED_IN)
// Mode bit 3: rounds silu(gate) * up of the blocks whose gate and up values are both copied, where this
// workgroup finished second (see the top). Uniform control flow.
void round_pairs(uint rb) {
    uint tid = gl_LocalInvocationID.x;
    uint n = pc.rows / 2u, nb = n / 32u;
    // (y itself is not coherent: a coherent y in this module measured slower on an H100.)
    if (tid < RPW && rb * RPW + tid < pc.rows) part[SPLIT_CNT + rb * RPW + tid] = fin[tid];
    memoryBarrierBuffer();  // the copies are visible before the counters count them
    barrier();
    if (tid < RPW / 32u) {
        uint b = rb * (RPW / 32u) + tid;  // a 32-row block of gate|up
        uint pb = b % max(nb, 1u);        // its block of the SwiGLU output
        bool second = b < pc.rows / 32u && atomicAdd(cnt[pb], 1u) == 1u;
        if (second) cnt[pb] = 0u;  // both arrived: back to 0 for the next dispatch
        blk_sh[tid] = second ? pb : ~0u;
    }
    barrier();
    memoryBarrierBuffer();
    uint pb = tid < RPW ? blk_sh[tid / 32u] : ~0u;
    float x = 0.0;
    if (pb != ~0u) {
        uint i = 32u * pb + tid % 32u;
        float g = part[SPLIT_CNT + i], u = part[SPLIT_CNT + n + i];
        x = g / (1.0 + exp(-g)) * u;
    }
    round_blocks(x, x, n);
}
#endif
#endif

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint team = tid / 32u, lane = tid % 32u;
    bool split = pc.splits > 1u;
    uint rb = split ? gl_WorkGroupID.x : flat_group_id();
    uint slice = split ? gl_WorkGroupID.y : 0u;
    uint row0 = rb * RPW + team * R_PER_TEAM;
    uint kb = slice * pc.slice_words * 16u;
    uint ke = min(pc.ne0, kb + pc.slice_words * 16u);
    float acc[R_PER_TEAM];
    [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) acc[r] = 0.0;
    bool do_norm = (pc.mode & 2u) != 0u, do_swiglu = (pc.mode & 4u) != 0u;
    float inv = 1.0;
#if !defined(ROUNDED_IN)
    if (do_norm) {  // uniform branch
        float ss = 0.0;
        for (uint k = tid; k < pc.ne0; k += WG) { float v = xv[pc.x_off + k]; ss += v * v; }
        inv = inversesqrt(wg_sum(ss) / float(pc.ne0) + pc.eps);
    }
#endif
#if defined(TYPE_I2_S)
    {
        uint o = (pc.w_base + pc.rows * pc.row_stride) >> 1u;  // the scale, 2-aligned
        i2s_d = uintBitsToFloat(uint(wh[o]) | (uint(wh[o + 1u]) << 16));
    }
#endif
#if defined(ROW_SCALE)
    // One scale for the whole row (every K slice alike): its max |x|.
    float row_am = 0.0;
    for (uint k = tid; k < pc.ne0; k += WG) row_am = max(row_am, abs(xv[pc.x_off + k]));
    row_am = wg_max(row_am);
#endif
    for (uint k0 = kb; k0 < ke; k0 += XC) {
        uint kn = min(XC, ke - k0);  // a multiple of U
#if defined(ROUNDED_IN)
        {  // chunk k0 .. k0 + kn of the rounded input (with a norm, the host checks: the whole row)
            // Thread t stages words 4t .. 4t + 3 of the chunk and their sum of q, as the rounding below would.
            uint vnw = pc.ne0 / 4u, vnb = pc.ne0 / 32u;  // the whole vector's words, blocks
            uint nw = kn / 4u, nb = kn / 32u;
            if (k0 != kb) barrier();  // the previous chunk's readers are done
            [[unroll]] for (uint j = 0u; j < 4u; ++j) {
                uint i = 4u * tid + j;
                if (i < nw) xq[sw(i)] = qxw[pc.q_in + k0 / 4u + i];
            }
            qp[tid] = tid < kn / 16u ? int(qxw[pc.q_in + vnw + vnb + k0 / 16u + tid]) : 0;
            if (do_norm) {
                float ss = tid < nb ? uintBitsToFloat(qxw[pc.q_in + vnw + 3u * vnb + tid]) : 0.0;
                inv = inversesqrt(wg_sum(ss) / float(pc.ne0) + pc.eps);
            }
            if (tid < nb) xd[tid] = uintBitsToFloat(qxw[pc.q_in + vnw + k0 / 32u + tid]) * inv;
            barrier();
        }
#else
        // Quantize: thread t takes x words 4t .. 4t + 3 (16 elements of block t / 2).
        float v[16];
        float am = 0.0;
        uint blk = tid / 2u;
        [[unroll]] for (uint i = 0u; i < 16u; ++i) {
            uint k = 32u * blk + xelem((tid % 2u) * 4u + i / 4u, i % 4u);
            float x = 0.0;
            if (k < kn) {
                x = xv[pc.x_off + k0 + k];
                if (do_norm) x = x * inv * nv[pc.nw_off + k0 + k];
                if (do_swiglu) x = x / (1.0 + exp(-x)) * xv[pc.x_off + pc.ne0 + k0 + k];
            }
            v[i] = x;
            am = max(am, abs(x));
        }
        barrier();  // the previous chunk's readers are done
        scr[tid] = am;
        barrier();
#if defined(ROW_SCALE)
        am = row_am;
#else
        am = max(scr[tid & ~1u], scr[tid | 1u]);
#endif
        float id = am > 0.0 ? 127.0 / am : 0.0;
        int qsum = 0;
        [[unroll]] for (uint j = 0u; j < 4u; ++j) {
            int q[4];
            [[unroll]] for (uint b = 0u; b < 4u; ++b) {
                q[b] = clamp(int(round(v[4u * j + b] * id)), -127, 127);
                qsum += q[b];
            }
            xq[sw(4u * tid + j)] = uint(q[0] & 255) | (uint(q[1] & 255) << 8) | (uint(q[2] & 255) << 16) |
                                   (uint(q[3] & 255) << 24);
        }
        qp[tid] = qsum;
        if ((tid & 1u) == 0u) xd[blk] = am / 127.0;
        barrier();
#endif
        uint nu = kn / U;
        uint u0 = k0 / U;  // the chunk's first unit in the row
        for (uint u = lane; u < nu; u += 32u) {
            uint cw[R_PER_TEAM][NW];
            float dw[R_PER_TEAM];
            [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) {
                uint ro = pc.w_base + min(row0 + r, pc.rows - 1u) * pc.row_stride;
#if defined(X_DIRECT)
                load_direct(ro, u0 + u, cw[r]);
#else
                load_codes(cbase(ro, u0 + u), cw[r]);
#endif
#if defined(TYPE_I2_S)
                dw[r] = i2s_d;
#else
                dw[r] = ld_half(sbase(ro, u0 + u));
#endif
            }
#if defined(X_DIRECT)
            [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) acc[r] += dw[r] * unit_dot_direct(cw[r], u);
#else
            uint xw[XW];
            [[unroll]] for (uint i = 0u; i < XW; ++i) xw[i] = xq[sw(unit_xword(u, i))];
            int qs[NXB];
            float dx[NXB];
            unit_blocks(u, qs, dx);
            [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) acc[r] += dw[r] * unit_dot(cw[r], xw, qs, dx);
#endif
        }
    }

    finish_rows(acc, row0, rb, slice);
#if defined(ROUNDED_OUT)
    barrier();  // fin is complete
    if (!split || LAST_IS_SET) {  // the workgroup that stored the rows' final values
#if defined(ROUNDED_IN)
        if ((pc.mode & 8u) != 0u) {
            round_pairs(rb);
        } else {
            round_rows(rb);
        }
#else
        round_rows(rb);
#endif
    }
#endif
}
