#version 450
// The glue between the q|k|v projections and attention, fused into one dispatch (each step was its
// own dispatch + barrier before): per head of one token an optional RMS norm with a weight vector
// (qwen3's q_norm / k_norm), RoPE, then q is written back (f32: in place, or packed into binding 5)
// and k and v are stored as f16 into the KV cache. Heads 0..n_head-1 are q, then n_kv_head k heads, then
// n_kv_head v heads (layout below). Same arithmetic as rms_norm.comp, rope.comp
// and f32_to_f16.comp run in sequence.
#define WG 256
#define TEAMS 8u  // heads per workgroup: one team of 32 threads each
#include "common.glsl"

layout(std430, binding = 0) buffer Xbuf { float xv[]; };            // q, k and v (f32)
layout(std430, binding = 1) readonly buffer Nbuf { float nv[]; };   // norm weights, rope_freqs
layout(std430, binding = 2) readonly buffer Pbuf { int pos[]; };
layout(std430, binding = 3) writeonly buffer Kbuf { uint kc[]; };   // pairs of halves
layout(std430, binding = 4) writeonly buffer Vbuf { uint vc[]; };
layout(std430, binding = 5) writeonly buffer Qout { float qo[]; };  // q's destination (binding 0's buffer: in place)
layout(push_constant) uniform PC {
    uint head_dim, n_head, n_kv_head, n_rot;
    uint q_off, k_off, v_off;   // floats: token 0 of q, k, v
    uint qn_off, kn_off;        // floats; 0xffffffff: no norm
    uint p_off;                 // int32 index of token 0's position
    uint kc_off, vc_off;        // words: token 0's row of the K / V cache (row stride n_kv_head * head_dim halves)
    float log2_base;
    uint style;                 // 0 NORM, 1 NEOX
    float eps;
    float freq_scale;           // linear RoPE scaling (1: none)
    uint ff_off;                // floats (binding 1): rope_freqs factors, n_rot / 2; 0xffffffff: none
    uint q_ts, kv_ts;           // floats from one token's q (k and v) to the next's
    uint qo_off, qo_ts;         // floats (binding 5): token 0's q destination, and its token stride
} pc;

// Layout (session 15): one head per team of 32 threads, 8 heads per workgroup, so that a 512-token
// prompt of the 8B shape is 3,072 workgroups, not 24,576 of one head (H200: ~44 us per layer, a
// latency-bound chain per small workgroup). Barriers stay in uniform control flow: teams without a
// head, and v heads, pass them too.
shared float hs[TEAMS * 512u];  // each team's head (head_dim <= 512)
shared float part[WG];          // per-thread sums of squares for the norms

void main() {
    uint t = gl_LocalInvocationID.x, team = t / 32u, lane = t % 32u;
    uint hh = gl_WorkGroupID.x * TEAMS + team, tok = gl_WorkGroupID.y;
    uint D = pc.head_dim, KD = pc.n_kv_head * D;
    uint n_qk = pc.n_head + pc.n_kv_head;
    bool is_qk = hh < n_qk;
    bool is_q = hh < pc.n_head;
    uint h = is_q ? hh : hh - pc.n_head;  // (k heads)
    uint base = team * 512u;
    if (hh >= n_qk && hh < n_qk + pc.n_kv_head) {  // v head: f16 store only
        uint hv = hh - n_qk;
        uint src = pc.v_off + tok * pc.kv_ts + hv * D;
        uint dst = pc.vc_off + (tok * KD + hv * D) / 2u;
        for (uint i = lane; i < D / 2u; i += 32u) vc[dst + i] = packHalf2x16(vec2(xv[src + 2u * i], xv[src + 2u * i + 1u]));
    }
    uint src = is_q ? pc.q_off + tok * pc.q_ts + h * D : pc.k_off + tok * pc.kv_ts + h * D;
    uint nw = is_q ? pc.qn_off : pc.kn_off;
    float ss = 0.0;
    if (is_qk) {
        for (uint i = lane; i < D; i += 32u) {
            float x = xv[src + i];
            hs[base + i] = x;
            ss += x * x;
        }
    }
    part[t] = ss;
    barrier();
    if (is_qk && nw != 0xffffffffu) {
        float s = 0.0;
        for (uint i = 0u; i < 32u; ++i) s += part[team * 32u + i];
        float inv = inversesqrt(s / float(D) + pc.eps);
        for (uint i = lane; i < D; i += 32u) hs[base + i] = hs[base + i] * inv * nv[nw + i];
    }
    barrier();
    uint half_rot = pc.n_rot / 2u;
    if (is_qk) {
        float p = float(pos[pc.p_off + tok]);
        for (uint i = lane; i < half_rot; i += 32u) {
            float ff = pc.ff_off != 0xffffffffu ? nv[pc.ff_off + i] : 1.0;
            float theta = rope_theta(p, i, pc.n_rot, pc.log2_base, pc.freq_scale, ff);
            float c = cos(theta), s = sin(theta);
            uint i0 = pc.style == 0u ? 2u * i : i;
            uint i1 = pc.style == 0u ? i0 + 1u : i0 + half_rot;
            float x0 = hs[base + i0], x1 = hs[base + i1];
            hs[base + i0] = x0 * c - x1 * s;
            hs[base + i1] = x0 * s + x1 * c;
        }
    }
    barrier();
    if (!is_qk) return;
    if (is_q) {
        uint dst = pc.qo_off + tok * pc.qo_ts + h * D;
        for (uint i = lane; i < D; i += 32u) qo[dst + i] = hs[base + i];
    } else {
        uint dst = pc.kc_off + (tok * KD + h * D) / 2u;
        for (uint i = lane; i < D / 2u; i += 32u) kc[dst + i] = packHalf2x16(vec2(hs[base + 2u * i], hs[base + 2u * i + 1u]));
    }
}
