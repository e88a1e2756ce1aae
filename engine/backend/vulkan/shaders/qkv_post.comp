#version 450
// The glue between the q|k|v projections and attention, fused into one dispatch (each step was its
// own dispatch + barrier before): per head of one token an optional RMS norm with a weight vector
// (qwen3's q_norm / k_norm), RoPE, then q is written back (f32: in place, or packed into binding 5)
// and k and v are stored as f16 into the KV cache. One workgroup per (head, token): heads 0..n_head-1
// are q, then n_kv_head k heads, then n_kv_head v heads. Same arithmetic as rms_norm.comp, rope.comp
// and f32_to_f16.comp run in sequence.
#define WG 128
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

shared float hs[512];

void main() {
    uint hh = gl_WorkGroupID.x, tok = gl_WorkGroupID.y, t = gl_LocalInvocationID.x;
    uint D = pc.head_dim, KD = pc.n_kv_head * D;
    if (hh >= pc.n_head + pc.n_kv_head) {  // v head: f16 store only (uniform over the workgroup)
        uint h = hh - pc.n_head - pc.n_kv_head;
        uint src = pc.v_off + tok * pc.kv_ts + h * D;
        uint dst = pc.vc_off + (tok * KD + h * D) / 2u;
        for (uint i = t; i < D / 2u; i += WG) vc[dst + i] = packHalf2x16(vec2(xv[src + 2u * i], xv[src + 2u * i + 1u]));
        return;
    }
    bool is_q = hh < pc.n_head;
    uint h = is_q ? hh : hh - pc.n_head;
    uint src = is_q ? pc.q_off + tok * pc.q_ts + h * D : pc.k_off + tok * pc.kv_ts + h * D;
    uint nw = is_q ? pc.qn_off : pc.kn_off;
    for (uint i = t; i < D; i += WG) hs[i] = xv[src + i];
    if (nw != 0xffffffffu) {
        float ss = 0.0;
        for (uint i = t; i < D; i += WG) ss += hs[i] * hs[i];
        float inv = inversesqrt(wg_sum(ss) / float(D) + pc.eps);  // wg_sum's barriers also publish hs
        for (uint i = t; i < D; i += WG) hs[i] = hs[i] * inv * nv[nw + i];
    }
    barrier();
    uint half_rot = pc.n_rot / 2u;
    float p = float(pos[pc.p_off + tok]);
    for (uint i = t; i < half_rot; i += WG) {
        float ff = pc.ff_off != 0xffffffffu ? nv[pc.ff_off + i] : 1.0;
        float theta = rope_theta(p, i, pc.n_rot, pc.log2_base, pc.freq_scale, ff);
        float c = cos(theta), s = sin(theta);
        uint i0 = pc.style == 0u ? 2u * i : i;
        uint i1 = pc.style == 0u ? i0 + 1u : i0 + half_rot;
        float x0 = hs[i0], x1 = hs[i1];
        hs[i0] = x0 * c - x1 * s;
        hs[i1] = x0 * s + x1 * c;
    }
    barrier();
    if (is_q) {
        uint dst = pc.qo_off + tok * pc.qo_ts + h * D;
        for (uint i = t; i < D; i += WG) qo[dst + i] = hs[i];
    } else {
        uint dst = pc.kc_off + (tok * KD + h * D) / 2u;
        for (uint i = t; i < D / 2u; i += WG) kc[dst + i] = packHalf2x16(vec2(hs[2u * i], hs[2u * i + 1u]));
    }
}
