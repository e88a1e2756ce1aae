#version 450
// Prompt attention (n_tokens > 1) for head_dim 128 over an f16 KV cache, tiled: one workgroup per
// (query head, block of BQ query tokens) walks the keys in tiles of BK. Each tile's keys and values
// are loaded once into shared memory and serve all BQ queries (attention.comp, one workgroup per
// (head, token), re-reads every key and value for every query token: 4.7 TFLOP/s on an H100 at 512
// tokens). Same arithmetic as attention.comp: scores q.k * scale in f32 with q optionally rounded to
// f16 first (round_q), a causal mask (query token t of n_tokens sees positions 0 .. n_kv - n_tokens + t),
// an online softmax per query row, out = sum p v / sum p. Grouped-query attention: head h reads KV
// head h / (n_head / n_kv_head).
//
// Work of the 256 threads per key tile:
//   scores  thread t: query row t / 8 x keys 2 (t % 8) + {0, 1}, over all 128 dims (q from shared
//           memory as f32 vec4, keys as packed f16 pairs);
//   softmax thread t < BQ: row t's running max and sum, the tile's probabilities and the row's
//           rescale factor alpha (the other threads wait at the barrier);
//   values  thread t: query rows 4 (t / 32) .. + 3 x dims 4 (t % 32) .. + 3, acc = acc * alpha + p v.
// The next tile's keys and values are loaded into registers while the current one is processed. The
// last query blocks see the most keys: they are dispatched first.
// The caller (ops.cpp) takes this shader only for head_dim 128 and key / value rows on 16-byte
// boundaries (offsets and strides multiples of 8 halves); otherwise attention.comp.
#define WG 256
#define BQ 32u   // query tokens per workgroup
#define BK 16u   // keys per tile
#define HD 128u  // head_dim
#define QS4 (HD / 4u + 1u)   // q_sh row stride in vec4 (a 16-byte shift per row: distinct rows, distinct banks)
#define KS2 (HD / 4u + 1u)   // k_sh row stride in uvec2 (4 packed halves)
#define VS2 (HD / 4u)        // v_sh row stride in uvec2
#define PS (BK + 1u)         // p_sh row stride
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require

layout(std430, binding = 0) readonly buffer Qbuf { float qv[]; };
layout(std430, binding = 1) readonly buffer Kbuf4 { uvec4 kv4[]; };
layout(std430, binding = 2) readonly buffer Vbuf4 { uvec4 vv4[]; };
layout(std430, binding = 3) writeonly buffer Obuf { float ov[]; };
layout(push_constant) uniform PC {
    uint n_head, n_kv_head, n_kv, n_tokens;
    uint k_off, k_ps, k_hs;  // f16 elements, multiples of 8
    uint v_off, v_ps, v_hs;  // f16 elements, multiples of 8
    uint q_off, o_off;       // floats
    float scale;
    uint round_q;            // 1: round q to f16 first
} pc;

shared vec4 q_sh[BQ * QS4];
shared uvec2 k_sh[BK * KS2];
shared uvec2 v_sh[BK * VS2];
shared float p_sh[BQ * PS];
shared float m_sh[BQ], l_sh[BQ], a_sh[BQ];

float f16_round(float x) { return unpackHalf2x16(packHalf2x16(vec2(x, 0.0))).x; }

vec4 unpack4(uint a, uint b) { return vec4(unpackHalf2x16(a), unpackHalf2x16(b)); }

void main() {
    uint h = gl_WorkGroupID.x;
    uint q0 = (gl_NumWorkGroups.y - 1u - gl_WorkGroupID.y) * BQ;  // the heaviest (last) blocks first
    uint t = gl_LocalInvocationID.x;
    uint kvh = h / (pc.n_head / pc.n_kv_head);
    uint q_last = min(q0 + BQ, pc.n_tokens) - 1u;
    // Query token q sees keys [0, hidden + q + 1); the block's last token sees the most.
    uint hidden = pc.n_kv - pc.n_tokens;  // positions before the batch: visible to every query token
    uint kv_end = hidden + q_last + 1u;

    // Q block (rows past n_tokens repeat the last row: valid loads, results dropped).
    for (uint i = t; i < BQ * HD / 4u; i += WG) {
        uint r = i / (HD / 4u), d4 = i % (HD / 4u);
        uint qo = pc.q_off + (min(q0 + r, q_last) * pc.n_head + h) * HD + 4u * d4;
        vec4 x = vec4(qv[qo], qv[qo + 1u], qv[qo + 2u], qv[qo + 3u]);
        if (pc.round_q != 0u) x = vec4(f16_round(x.x), f16_round(x.y), f16_round(x.z), f16_round(x.w));
        q_sh[r * QS4 + d4] = x;
    }
    if (t < BQ) {
        m_sh[t] = -1.0e30;  // finite, so that exp(m - m_new) never sees inf - inf
        l_sh[t] = 0.0;
    }

    uint sr = t / 8u, sc = 2u * (t % 8u);           // scores: row sr x keys sc, sc + 1
    uint vr = 4u * (t / 32u), vd4 = t % 32u;        // values: rows vr .. + 3 x dims 4 vd4 .. + 3
    float acc[4][4];
    [[unroll]] for (uint r = 0u; r < 4u; ++r) [[unroll]] for (uint c = 0u; c < 4u; ++c) acc[r][c] = 0.0;
    uint kb = (pc.k_off + kvh * pc.k_hs) / 8u, vb = (pc.v_off + kvh * pc.v_hs) / 8u;  // in uvec4s
    // This thread's 16 bytes of a tile: key / value c = t / 16, halves 8 (t % 16) .. + 7.
    uint lc = t / 16u, lw = t % 16u;
    uvec4 kq = kv4[kb + min(lc, kv_end - 1u) * (pc.k_ps / 8u) + lw];
    uvec4 vq = vv4[vb + min(lc, kv_end - 1u) * (pc.v_ps / 8u) + lw];
    const float hid = uintBitsToFloat(0xFF800000u);  // -inf: a hidden (masked) key

    for (uint j0 = 0u; j0 < kv_end; j0 += BK) {
        barrier();  // the previous tile's readers are done (and, first time, q_sh / m_sh are written)
        k_sh[lc * KS2 + 2u * lw] = kq.xy;
        k_sh[lc * KS2 + 2u * lw + 1u] = kq.zw;
        v_sh[lc * VS2 + 2u * lw] = vq.xy;
        v_sh[lc * VS2 + 2u * lw + 1u] = vq.zw;
        // The next tile's loads (clamped to the last valid position; masked when used).
        uint jn = min(j0 + BK + lc, kv_end - 1u);
        kq = kv4[kb + jn * (pc.k_ps / 8u) + lw];
        vq = vv4[vb + jn * (pc.v_ps / 8u) + lw];
        barrier();

        // Scores of one row x 2 keys, dims in order.
        float s0 = 0.0, s1 = 0.0;
        [[unroll]] for (uint d4 = 0u; d4 < HD / 4u; ++d4) {
            vec4 qa = q_sh[sr * QS4 + d4];
            uvec2 a = k_sh[sc * KS2 + d4], b = k_sh[(sc + 1u) * KS2 + d4];
            vec4 ka = unpack4(a.x, a.y), kc = unpack4(b.x, b.y);
            s0 += qa.x * ka.x + qa.y * ka.y + qa.z * ka.z + qa.w * ka.w;
            s1 += qa.x * kc.x + qa.y * kc.y + qa.z * kc.z + qa.w * kc.w;
        }
        uint lim = hidden + q0 + sr + 1u;  // causal
        p_sh[sr * PS + sc] = j0 + sc < lim ? s0 * pc.scale : hid;
        p_sh[sr * PS + sc + 1u] = j0 + sc + 1u < lim ? s1 * pc.scale : hid;
        barrier();

        if (t < BQ) {  // online softmax of row t over this tile
            float mx = -1.0e30;
            [[unroll]] for (uint c = 0u; c < BK; ++c) mx = max(mx, p_sh[t * PS + c]);
            float m_old = m_sh[t], m_new = max(m_old, mx);
            float alpha = exp(m_old - m_new), sum = 0.0;
            [[unroll]] for (uint c = 0u; c < BK; ++c) {
                float s = p_sh[t * PS + c];
                float p = s == hid ? 0.0 : exp(s - m_new);
                p_sh[t * PS + c] = p;
                sum += p;
            }
            m_sh[t] = m_new;
            l_sh[t] = l_sh[t] * alpha + sum;
            a_sh[t] = alpha;
        }
        barrier();

        // acc = acc * alpha + p v, keys in order.
        [[unroll]] for (uint r = 0u; r < 4u; ++r) {
            float al = a_sh[vr + r];
            [[unroll]] for (uint c = 0u; c < 4u; ++c) acc[r][c] *= al;
        }
        [[unroll]] for (uint c = 0u; c < BK; ++c) {
            uvec2 w = v_sh[c * VS2 + vd4];
            vec4 v = unpack4(w.x, w.y);
            [[unroll]] for (uint r = 0u; r < 4u; ++r) {
                float p = p_sh[(vr + r) * PS + c];
                acc[r][0] += p * v.x;
                acc[r][1] += p * v.y;
                acc[r][2] += p * v.z;
                acc[r][3] += p * v.w;
            }
        }
    }
    barrier();  // l_sh's last update is visible
    [[unroll]] for (uint r = 0u; r < 4u; ++r) {
        uint q = q0 + vr + r;
        if (q < pc.n_tokens) {
            float inv = 1.0 / l_sh[vr + r];
            uint o = pc.o_off + (q * pc.n_head + h) * HD + 4u * vd4;
            ov[o] = acc[r][0] * inv;
            ov[o + 1u] = acc[r][1] * inv;
            ov[o + 2u] = acc[r][2] * inv;
            ov[o + 3u] = acc[r][3] * inv;
        }
    }
}
