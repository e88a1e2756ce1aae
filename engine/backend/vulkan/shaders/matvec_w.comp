#version 450
// y[row] (+)= dot(W[row], x) for the low-bit block types Q1_0, Q2_0, PQ2_0, TQ2_0 and I2_S (one module per type,
// -DTYPE_<name>). The plain matvec.comp decodes one element per lane per iteration, which is
// ALU-bound; here every lane owns whole 32-bit words of codes (32 Q1_0 or 16 Q2_0/TQ2_0 weights per
// word) and decodes them with bit operations, for R_PER_TEAM rows at once, so that each x value it
// holds in registers serves several rows.
//
// Layout of the work: the 256 threads form 8 "teams" of 32 (independent of the subgroup size, so
// the word-to-lane mapping is the same on every device). Team t takes rows row0 + t*R .. + R-1;
// lane l of a team takes words l, l + 32, ... of each row. x is staged in shared memory in chunks of
// XC elements (small, so that many workgroups fit on a multiprocessor: 19 KB per workgroup measured
// half the speed of 8 KB on an H100), padded by one float per 32 (index k + k/32) so that lanes
// reading 32 consecutive elements each (Q1_0) hit 32 different banks. Weight words of consecutive lanes are consecutive
// in memory (coalesced). Partial sums are reduced with subgroupAdd when a subgroup is exactly a
// team (NVIDIA), else through shared memory.
//
// The input can be transformed while it is staged, so that a decode step needs fewer dispatches:
// mode bit 1: x = rms_norm(x) * nw (the norm computed by every workgroup, over the whole row first);
// mode bit 2: x[k] = silu(x[k]) * x[ne0 + k] (SwiGLU of gate|up laid out back to back).
// mode bit 0 adds the result to y (residual add).
//
// Split-K (pc.splits > 1): a matrix of few rows (an output or down projection) gives too few
// workgroups to keep a GPU's memory system busy, so the dispatch has pc.splits workgroup rows in y and
// workgroup (x, s) takes words [s * slice_words, (s + 1) * slice_words) of the rows of block x. Each
// writes its partial sums to a scratch buffer (binding 4: SPLIT_CNT uint counters, one per row block,
// then splits x rows floats); the workgroup that finishes a row block last (atomic counter) adds the
// partials in slice order (deterministic) into y and resets the counter to 0 for the next dispatch.
//
// Blocks are 18 (Q1_0, Q2_0), 34 (PQ2_0) or 66 (TQ2_0) bytes, so a word of codes is rarely 4-byte aligned: it is
// assembled from the two aligned words covering it (the buffer's size is rounded up to 4 bytes, so
// both exist). Layouts: specs/formats.md section 2.3.
#define WG 256
#define TEAMS 8u
#ifndef R_PER_TEAM
#define R_PER_TEAM 4u
#endif
#define RPW (TEAMS * R_PER_TEAM)
#define XC 2048u
#define SPLIT_CNT 65536u  // counters at the start of the split-K scratch buffer (ops.cpp: same value)
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require

layout(std430, binding = 0) readonly buffer Wb8 { uint8_t wb[]; };
layout(std430, binding = 0) readonly buffer Wb32 { uint wu[]; };
layout(std430, binding = 0) readonly buffer Wb16 { uint16_t wh[]; };

#if defined(LUT)
// Table-lookup variant (Q1_0 and Q2_0, -DLUT): instead of staging x, every chunk of LXC = LP passes of
// x values becomes a table with one entry per value of a 4-bit nibble of codes for each group g of the
// GW weights such a nibble holds: Q1_0, GW = 4: the 16 signed sums ±x[4g] ±x[4g+1] ±x[4g+2] ±x[4g+3];
// Q2_0, GW = 2: the 16 sums (q0 - 1) x[2g] + (q1 - 1) x[2g+1]. A nibble then picks one entry: one shared
// load + one add per GW weights and row, instead of a select/extract and an add per weight (matvec_w is
// ALU-bound on the H100; see docs/vulkan.md). A pass is 32 lanes x 4 nibbles of groups (512 Q1_0 /
// 256 Q2_0 weights). The table is entry-major, lut[n * LGROUPS + swz(g)], swz(g) = g ^ ((g >> 5) & 3):
// the 32 lanes of a team read groups 128p + 4l + i at arbitrary n, and the swizzle puts them in 32
// different banks. lut also holds the partial sums of the shared-memory reduction (WG * R_PER_TEAM <=
// 2048 floats).
#ifndef LUT_PASSES
#define LUT_PASSES 1  // passes of 512 elements per chunk: 1, 2 or 4
#endif
#if LUT_PASSES == 1
#define LP 1u
#define LSHIFT 7u
#elif LUT_PASSES == 2
#define LP 2u
#define LSHIFT 8u
#elif LUT_PASSES == 4
#define LP 4u
#define LSHIFT 9u
#else
#error "LUT_PASSES must be 1, 2 or 4"
#endif
#if defined(TYPE_Q1_0)
#define GW 4u      // weights per nibble of codes
#define BLKW 128u  // weights per 18-byte block
#elif defined(TYPE_Q2_0)
#define GW 2u
#define BLKW Q2_BLK
#elif defined(TYPE_TQ2_0)
// TQ2_0: a pass is one 66-byte block (qs[64], fp16 d): lane l reads qs bytes 2l, 2l + 1; nibble i of
// that half is byte i / 2, planes 2 (i % 2) and 2 (i % 2) + 1, i.e. the codes of x[a] and x[a + 32] with
// a = 128 h + 64 (i % 2) + m, m = (2 l + i / 2) % 32, h = (2 l + i / 2) / 32 (formats.md: weight
// 128 h + 32 p + m is plane p of qs[32 h + m]).
#define GW 2u
#define BLKW 256u
#elif defined(TYPE_I2_S)
// I2_S: a pass is two 32-byte blocks (64 bytes, no scale: one per tensor): lane l reads bytes 2l, 2l + 1
// as TQ2_0 does, but the planes run the other way (weight 128 h + 32 g + m at bits 6 - 2g of byte
// 32 h + m): nibble i of the half holds the codes of x[a] and x[a - 32], a = 128 h + 96 - 64 (i % 2) + m.
// Rows must be whole passes (ops.cpp: ne0 % 256 == 0, else the word variant).
#define GW 2u
#define BLKW 256u
#else
#error "the table variant is for Q1_0, Q2_0, TQ2_0 and I2_S"
#endif
#if defined(TYPE_Q2_0)
#define BLKB Q2_BLK_BYTES  // bytes per block
#else
#define BLKB 18u
#endif
#define PASS (128u * GW)  // elements per pass: 32 lanes x 4 nibbles x GW
#define LXC (PASS * LP)
#define LGROUPS (LXC / GW)  // = 128 LP
shared float lut[16u * LGROUPS];
#define RED lut
#else
shared float xs[XC + XC / 32u];
#define RED xs
#endif
#if defined(LUT)
// The table variant keeps its shared memory to the table alone (4 passes: exactly 32 KB, the limit of
// some devices, lavapipe included): the norm's sum and the split-K flag live in lut too, where no
// table is being read at that moment (before the first chunk's barrier / after the last reduction).
float block_sum(float v) {
    v = subgroupAdd(v);
    if (subgroupElect()) lut[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; ++i) s += lut[i];
    barrier();
    return s;
}
#define LAST_SET(v) lut[0] = (v) ? 1.0 : 0.0
#define LAST_IS_SET (lut[0] != 0.0)
#else
float block_sum(float v) { return wg_sum(v); }
shared uint last_sh;  // split-K: this workgroup finished its row block last
#define LAST_SET(v) last_sh = (v) ? 1u : 0u
#define LAST_IS_SET (last_sh != 0u)
#endif
#include "matvec_io.glsl"

// The 4 bytes at byte offset o (any alignment), little endian.
uint ldw(uint o) {
    uint a = o >> 2;
    uint s = (o & 3u) * 8u;
    uint lo = wu[a];
    if (s == 0u) return lo;
    return (lo >> s) | (wu[a + 1u] << (32u - s));
}
float ld_half(uint o) { return unpackHalf2x16(uint(wb[o]) | (uint(wb[o + 1u]) << 8)).x; }
// Exact float of a small unsigned integer q < 2^23 without an int-to-float conversion instruction.
float small_float(uint q) { return uintBitsToFloat(0x4B000000u | q) - 8388608.0; }

#if defined(TYPE_Q1_0)
// 128 weights, 18 bytes: fp16 d, 16 bytes of sign bits (LSB first); bit 1 -> +d, 0 -> -d.
#define EPW 32u  // weights per word
#elif defined(TYPE_Q2_0)
// 64 weights (PQ2_0: 128), 18 (34) bytes: fp16 d, codes; weight j = bits 2(j%4).. of byte j/4; value
// (q - 1) d.
#define EPW 16u
#elif defined(TYPE_TQ2_0)
// 256 weights, 66 bytes: qs[64], fp16 d at 64. Weight 128h + 32l + m = (qs[32h + m] >> 2l) & 3,
// value (q - 1) d. Word w of qs (bytes 4w..4w+3, h = w / 8, p = w % 8) holds the weights
// 128h + 32l + 4p + b for l, b in 0..3 (b = byte within the word).
#define EPW 16u
#elif defined(TYPE_I2_S)
// BitNet b1.58 (formats.md 2.3.10): blocks of 128 weights in 32 bytes, weight 32g + m at bits 6 - 2g of
// byte m; value (q - 1) scale with ONE float32 scale after the tensor (i2s_d). Word p of a block (bytes
// 4p..4p+3) holds the weights 32g + 4p + b (g, b in 0..3) at bits 8b + 6 - 2g.
#define EPW 16u
#else
#error "matvec_w: define TYPE_Q1_0, TYPE_Q2_0, TYPE_TQ2_0 or TYPE_I2_S"
#endif
// I2_S: the tensor's scale, which follows its last row (set at the start of main()).
float i2s_d = 1.0;

// Index (inside the row) of weight i of word gw of a row (x index).
uint elem_of(uint gw, uint i) {
#if defined(TYPE_TQ2_0)
    uint blk = gw / 16u, wi = gw % 16u;
    return blk * 256u + (wi / 8u) * 128u + (i % 4u) * 32u + (wi % 8u) * 4u + i / 4u;
#elif defined(TYPE_I2_S)
    return (gw / 8u) * 128u + (i % 4u) * 32u + (gw % 8u) * 4u + i / 4u;
#else
    return gw * EPW + i;
#endif
}

// Byte offset of word gw of the row starting at ro, and of its block's fp16 scale.
void word_addr(uint ro, uint gw, out uint wo, out uint so) {
#if defined(TYPE_Q1_0)
    uint blk = gw / 4u;
    so = ro + blk * 18u;
    wo = so + 2u + (gw % 4u) * 4u;
#elif defined(TYPE_Q2_0)
    uint blk = gw / (Q2_BLK / 16u);
    so = ro + blk * Q2_BLK_BYTES;
    wo = so + 2u + (gw % (Q2_BLK / 16u)) * 4u;
#elif defined(TYPE_TQ2_0)
    uint blk = gw / 16u;
    wo = ro + blk * 66u + (gw % 16u) * 4u;
    so = ro + blk * 66u + 64u;
#else
    wo = ro + gw * 4u;
    so = 0u;  // one scale per tensor (i2s_d)
#endif
}

// dot of one word of codes with its weights' x values xr (x index order of elem_of); sx = sum of xr.
float word_dot(uint w, float xr[EPW], float sx) {
#if defined(TYPE_Q1_0)
    // sum_j (bit ? x : -x) = 2 * sum_{bit set} x - sum x
    float p = 0.0;
    [[unroll]] for (uint j = 0u; j < 32u; ++j) p += (w & (1u << j)) != 0u ? xr[j] : 0.0;
    return 2.0 * p - sx;
#elif defined(TYPE_Q2_0)
    float p = 0.0;
    [[unroll]] for (uint j = 0u; j < 16u; ++j) p += small_float(bitfieldExtract(w, int(2u * j), 2)) * xr[j];
    return p - sx;
#elif defined(TYPE_TQ2_0)
    // weight i = (i % 4 = l, i / 4 = b): bits 8b + 2l of the word.
    float p = 0.0;
    [[unroll]] for (uint i = 0u; i < 16u; ++i) p += small_float(bitfieldExtract(w, int(8u * (i / 4u) + 2u * (i % 4u)), 2)) * xr[i];
    return p - sx;
#else
    // weight i = (i % 4 = g, i / 4 = b): bits 8b + 6 - 2g of the word.
    float p = 0.0;
    [[unroll]] for (uint i = 0u; i < 16u; ++i) p += small_float(bitfieldExtract(w, int(8u * (i / 4u) + 6u - 2u * (i % 4u)), 2)) * xr[i];
    return p - sx;
#endif
}

// Weight words lw and lw + 32 of chunk words [w0, w0 + wn) for the team's R_PER_TEAM rows, with
// their blocks' scales: all loads issued before any is used (more bytes in flight per lane). Word and
// row indices are clamped, so every load is valid; the caller discards what the clamp duplicated.
void load_words(uint lw, uint w0, uint wn, uint row0, out uint wq[2 * R_PER_TEAM], out float dq[2 * R_PER_TEAM]) {
    [[unroll]] for (uint u = 0u; u < 2u; ++u) {
        uint gw = w0 + min(lw + 32u * u, wn - 1u);
        [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) {
            uint row = min(row0 + r, pc.rows - 1u);
            uint wo, so;
            word_addr(pc.w_base + row * pc.row_stride, gw, wo, so);
            wq[u * R_PER_TEAM + r] = ldw(wo);
#if defined(TYPE_I2_S)
            dq[u * R_PER_TEAM + r] = i2s_d;
#else
            dq[u * R_PER_TEAM + r] = ld_half(so);
#endif
        }
    }
}


void main() {
    uint tid = gl_LocalInvocationID.x;
    uint team = tid / 32u, lane = tid % 32u;
    bool split = pc.splits > 1u;
    uint rb = split ? gl_WorkGroupID.x : flat_group_id();  // row block
    uint slice = split ? gl_WorkGroupID.y : 0u;
    uint row0 = rb * RPW + team * R_PER_TEAM;
    // Elements [kb, ke) of the rows: slices are whole XC-chunks (ops.cpp), so TQ2_0's 256-element
    // blocks stay whole.
    uint kb = slice * pc.slice_words * EPW;
    uint ke = min(pc.ne0, kb + pc.slice_words * EPW);
    float acc[R_PER_TEAM];
    [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) acc[r] = 0.0;

    bool do_norm = (pc.mode & 2u) != 0u, do_swiglu = (pc.mode & 4u) != 0u;
    float inv = 1.0;
#if defined(TYPE_I2_S)
    i2s_d = uintBitsToFloat(ldw(pc.w_base + pc.rows * pc.row_stride));
#endif
#if defined(LUT)
    // Pass p of a chunk: lane l covers elements [PASS p + 4 GW l, + 4 GW): one 16-bit half of a block's
    // codes (blocks start at even bytes, so the half is 2-aligned), groups 128 p + 4 l + i, i < 4.
    uint sw = lane >> 3u;
    // I2_S: each row block starts at its own chunk and wraps around, so that the workgroups do not all
    // read the same column range of their rows at once (H100, 2048 x 151936: 412 -> 83 us, TQ2_0 93;
    // rows padded to a non-power-of-two stride were slower still; Q1_0 and TQ2_0 measured no gain).
    // A row's chunk order, so its sum, is still fixed.
    uint n_chunks = (ke - kb + LXC - 1u) / LXC;
#if defined(TYPE_I2_S)
    uint rot = rb % n_chunks;
#else
    uint rot = 0u;
#endif
    for (uint ci = 0u; ci < n_chunks; ++ci) {
        uint k0 = kb + ((ci + rot) % n_chunks) * LXC;
        uint kn = min(LXC, ke - k0);  // a multiple of BLKW
        // All of the chunk's weight loads first (they do not depend on x). Clamped: lanes past the
        // end load valid data and add nothing.
        uint bits[LP * R_PER_TEAM];
        float dq[LP * R_PER_TEAM];
        [[unroll]] for (uint q = 0u; q < LP; ++q) {
            uint e = k0 + min(PASS * q + lane * 4u * GW, kn - 4u * GW);
            [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) {
                uint row = min(row0 + r, pc.rows - 1u);
#if defined(TYPE_TQ2_0)
                uint h = (pc.w_base + row * pc.row_stride + (e / BLKW) * 66u) >> 1u;  // block start, in halves
                dq[q * R_PER_TEAM + r] = unpackHalf2x16(uint(wh[h + 32u])).x;
                bits[q * R_PER_TEAM + r] = uint(wh[h + (e % BLKW) / (4u * GW)]);
#elif defined(TYPE_I2_S)
                // Bytes 2l, 2l + 1 of the pass: byte e / 4 of the row (e = the pass start + 8 l).
                dq[q * R_PER_TEAM + r] = i2s_d;
                bits[q * R_PER_TEAM + r] = uint(wh[(pc.w_base + row * pc.row_stride + e / 4u) >> 1u]);
#else
                uint h = (pc.w_base + row * pc.row_stride + (e / BLKW) * BLKB) >> 1u;  // block start, in halves
                dq[q * R_PER_TEAM + r] = unpackHalf2x16(uint(wh[h])).x;
                bits[q * R_PER_TEAM + r] = uint(wh[h + 1u + (e % BLKW) / (4u * GW)]);
#endif
            }
        }
        if (do_norm && ci == 0u) {  // uniform branch: block_sum's barriers are reached by the whole workgroup
            float ss = 0.0;
            for (uint k = tid; k < pc.ne0; k += WG) { float v = xv[pc.x_off + k]; ss += v * v; }
            inv = inversesqrt(block_sum(ss) / float(pc.ne0) + pc.eps);
        }
        barrier();  // the previous chunk's readers are done
        // Thread (g, hb) writes 8 of the 16 entries of group g.
        for (uint gi = tid; gi < 2u * LGROUPS; gi += WG) {
            uint g = gi >> 1u, hb = gi & 1u;
            if (GW * g >= kn) break;
            float xq[GW];
            [[unroll]] for (uint j = 0u; j < GW; ++j) {
#if defined(TYPE_TQ2_0)
                uint gp = g % 128u, mm = (gp >> 1u) % 32u, hh = (gp >> 1u) / 32u;  // group gp = 4 l + i of its pass
                uint k = k0 + (g / 128u) * PASS + 128u * hh + 64u * (gp & 1u) + mm + 32u * j;
#elif defined(TYPE_I2_S)
                uint gp = g % 128u, mm = (gp >> 1u) % 32u, hh = (gp >> 1u) / 32u;  // as TQ2_0, planes reversed
                uint k = k0 + (g / 128u) * PASS + 128u * hh + 96u - 64u * (gp & 1u) + mm - 32u * j;
#else
                uint k = k0 + GW * g + j;
#endif
                float v = xv[pc.x_off + k];
                if (do_norm) v = v * inv * nv[pc.nw_off + k];
                if (do_swiglu) v = v / (1.0 + exp(-v)) * xv[pc.x_off + pc.ne0 + k];
                xq[j] = v;
            }
            uint sg = g ^ ((g >> 5u) & 3u);
#if defined(TYPE_Q1_0)
            // The entries whose bit 2 is hb, and their negations (entry 15 - n = -entry n).
            float base = (hb != 0u ? xq[2] : -xq[2]) - xq[3];
            float p = xq[0] + xq[1], m = xq[0] - xq[1];
            uint n0 = 4u * hb;
            float t0 = base - p, t1 = base + m, t2 = base - m, t3 = base + p;
            lut[(n0 + 0u) * LGROUPS + sg] = t0;
            lut[(n0 + 1u) * LGROUPS + sg] = t1;
            lut[(n0 + 2u) * LGROUPS + sg] = t2;
            lut[(n0 + 3u) * LGROUPS + sg] = t3;
            lut[(15u - n0) * LGROUPS + sg] = -t0;
            lut[(14u - n0) * LGROUPS + sg] = -t1;
            lut[(13u - n0) * LGROUPS + sg] = -t2;
            lut[(12u - n0) * LGROUPS + sg] = -t3;
#else
            // Entries n = q0 + 4 q1 with q1 = 2 hb, 2 hb + 1: (q0 - 1) x0 + (q1 - 1) x1.
            [[unroll]] for (uint j = 0u; j < 2u; ++j) {
                float c = float(int(2u * hb + j) - 1) * xq[1];
                [[unroll]] for (uint q0 = 0u; q0 < 4u; ++q0)
                    lut[(q0 + 4u * (2u * hb + j)) * LGROUPS + sg] = float(int(q0) - 1) * xq[0] + c;
            }
#endif
        }
        barrier();
        [[unroll]] for (uint q = 0u; q < LP; ++q) {
            // (No break here: a loop with one is not unrolled, and bits/dq would go to function memory.)
            bool pass_ok = PASS * q + lane * 4u * GW < kn;
            // Entry n of group g' (swizzled) is lut[n * LGROUPS + g']; LGROUPS = 128 LP is a power of
            // two, so the index is (n << LSHIFT) | g'.
            uint gb = 128u * q + 4u * lane;
            uint b0 = gb + (0u ^ sw), b1 = gb + (1u ^ sw), b2 = gb + (2u ^ sw), b3 = gb + (3u ^ sw);
            [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) {
                uint b = bits[q * R_PER_TEAM + r];
                float s = lut[((b & 15u) << LSHIFT) | b0] + lut[(((b >> 4u) & 15u) << LSHIFT) | b1] +
                          lut[(((b >> 8u) & 15u) << LSHIFT) | b2] + lut[((b >> 12u) << LSHIFT) | b3];
                acc[r] += pass_ok && row0 + r < pc.rows ? dq[q * R_PER_TEAM + r] * s : 0.0;
            }
        }
    }
#else
    for (uint k0 = kb; k0 < ke; k0 += XC) {
        uint kn = min(XC, ke - k0);
        uint w0 = k0 / EPW, wn = kn / EPW;  // words of this chunk (XC is a multiple of every block)
        // The first iteration's weights do not depend on x: their loads are issued before the x
        // staging (and the norm pass), so that their memory latency overlaps it. For the 2048- and
        // 4096-wide rows of a decode step that is every weight load of the workgroup.
        uint wq[2 * R_PER_TEAM];
        float dq[2 * R_PER_TEAM];
        load_words(lane, w0, wn, row0, wq, dq);
        if (do_norm && k0 == kb) {  // uniform branch: block_sum's barriers are reached by the whole workgroup
            float ss = 0.0;
            for (uint k = tid; k < pc.ne0; k += WG) { float v = xv[pc.x_off + k]; ss += v * v; }
            inv = inversesqrt(block_sum(ss) / float(pc.ne0) + pc.eps);
        }
        barrier();  // the previous chunk's readers are done
        for (uint k = tid; k < kn; k += WG) {
            float v = xv[pc.x_off + k0 + k];
            if (do_norm) v = v * inv * nv[pc.nw_off + k0 + k];
            if (do_swiglu) v = v / (1.0 + exp(-v)) * xv[pc.x_off + pc.ne0 + k0 + k];
            xs[k + k / 32u] = v;
        }
        barrier();
        // Two words per lane per iteration (load_words); rows past the end and the missing second
        // word re-read valid data and add nothing.
        for (uint lw = lane; lw < wn; lw += 64u) {
            if (lw != lane) load_words(lw, w0, wn, row0, wq, dq);
            [[unroll]] for (uint u = 0u; u < 2u; ++u) {
                bool word_ok = lw + 32u * u < wn;
                uint gw = w0 + min(lw + 32u * u, wn - 1u);
                float xr[EPW];
                float sx = 0.0;
                [[unroll]] for (uint i = 0u; i < EPW; ++i) {
                    uint k = elem_of(gw, i) - k0;
                    xr[i] = xs[k + k / 32u];
                    sx += xr[i];
                }
                [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) {
                    float v = dq[u * R_PER_TEAM + r] * word_dot(wq[u * R_PER_TEAM + r], xr, sx);
                    acc[r] += (word_ok && row0 + r < pc.rows) ? v : 0.0;
                }
            }
        }
    }

#endif

    finish_rows(acc, row0, rb, slice);
}
