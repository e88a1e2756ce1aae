#version 450
// Query tokens over an f16 KV cache, one workgroup per (query head, query token) (grouped-query
// attention: head h reads kv head h / (n_head / n_kv_head)). Query token t of n_tokens sees positions
// 0 .. n_kv - n_tokens + t (causal mask of a prompt batch; n_tokens = 1 for decoding). Keys are walked
// in chunks of WG with an online softmax: thread j scores key j of the chunk, then thread t accumulates output dims t, t+WG, ...
#define WG 64
#define MAX_DPT 8   // head_dim <= WG * MAX_DPT = 512
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Qbuf { float qv[]; };
layout(std430, binding = 1) readonly buffer Kbuf { uint16_t kv[]; };
layout(std430, binding = 1) readonly buffer Kbuf4 { uvec4 kv4[]; };  // same keys, 8 halves per load
layout(std430, binding = 2) readonly buffer Vbuf { uint16_t vv[]; };
layout(std430, binding = 3) writeonly buffer Obuf { float ov[]; };
layout(push_constant) uniform PC {
    uint head_dim, n_head, n_kv_head, n_kv;
    uint k_off, k_ps, k_hs;  // f16 elements
    uint v_off, v_ps, v_hs;  // f16 elements
    uint q_off, o_off;       // floats
    float scale;
    uint n_tokens;           // query tokens (workgroups in y)
    uint round_q;            // 1: round q to f16 first, as llama.cpp's CPU path does
    uint split_len;          // > 0: split-KV mode (one query token): workgroup y = split s takes keys
                             // s*split_len .. and writes its partial (m, l, unnormalized out[D]) to
                             // ov[o_off + (h * n_splits + s) * (D + 2)] for attention_combine.comp
    uint n_splits;
} pc;

shared float q_sh[WG * MAX_DPT];
shared float p_sh[WG];

// 16-bit values may only live in buffers (no shaderInt16 needed): widen at the load.
float k_at(uint i) { return unpackHalf2x16(uint(kv[i])).x; }
float v_at(uint i) { return unpackHalf2x16(uint(vv[i])).x; }

void main() {
    uint h = gl_WorkGroupID.x;
    bool split = pc.split_len > 0u;
    uint tok = split ? 0u : gl_WorkGroupID.y;
    uint j_begin = split ? gl_WorkGroupID.y * pc.split_len : 0u;
    uint t = gl_LocalInvocationID.x;
    uint kvh = h / (pc.n_head / pc.n_kv_head);
    uint D = pc.head_dim;
    uint n_kv = pc.n_kv - (pc.n_tokens - 1u - tok);  // causal: later tokens of the batch are hidden
    uint qo = pc.q_off + (tok * pc.n_head + h) * D;
    for (uint d = t; d < D; d += WG) {
        float x = qv[qo + d];
        q_sh[d] = pc.round_q != 0u ? unpackHalf2x16(packHalf2x16(vec2(x, 0.0))).x : x;
    }
    barrier();

    float acc[MAX_DPT];
    for (uint i = 0u; i < MAX_DPT; ++i) acc[i] = 0.0;
    float m = -1.0e30;  // running max (finite so that exp(m - m_new) never sees inf - inf)
    float l = 0.0;      // running sum of exp(score - m)
    uint kbase = pc.k_off + kvh * pc.k_hs;
    // Every key row starts on a 16-byte boundary: read it as uvec4 (the model's cache layout).
    bool k_vec = ((pc.k_off | pc.k_ps | pc.k_hs | D) & 7u) == 0u;
    uint vbase = pc.v_off + kvh * pc.v_hs;

    uint j_end = split ? min(n_kv, j_begin + pc.split_len) : n_kv;
    for (uint j0 = j_begin; j0 < j_end; j0 += WG) {
        uint j = j0 + t;
        float s = -1.0e30;
        if (j < j_end) {
            uint ko = kbase + j * pc.k_ps;
            float dot = 0.0;
            if (k_vec) {  // 16-byte loads: 8x fewer load instructions for the key row
                for (uint d8 = 0u; d8 < D / 8u; ++d8) {
                    uvec4 w = kv4[ko / 8u + d8];
                    uint d = 8u * d8;
                    vec2 a = unpackHalf2x16(w.x), b = unpackHalf2x16(w.y), c = unpackHalf2x16(w.z), e = unpackHalf2x16(w.w);
                    dot += q_sh[d] * a.x + q_sh[d + 1u] * a.y + q_sh[d + 2u] * b.x + q_sh[d + 3u] * b.y +
                           q_sh[d + 4u] * c.x + q_sh[d + 5u] * c.y + q_sh[d + 6u] * e.x + q_sh[d + 7u] * e.y;
                }
            } else {
                for (uint d = 0u; d < D; ++d) dot += q_sh[d] * k_at(ko + d);
            }
            s = dot * pc.scale;
        }
        float m_new = max(m, wg_max(s));
        float p = j < j_end ? exp(s - m_new) : 0.0;
        float alpha = exp(m - m_new);
        l = l * alpha + wg_sum(p);
        p_sh[t] = p;
        barrier();
        uint cnt = min(uint(WG), j_end - j0);
        for (uint i = 0u; i < MAX_DPT; ++i) {
            uint d = t + i * WG;
            if (d < D) {
                float a = acc[i] * alpha;
                for (uint jj = 0u; jj < cnt; ++jj) a += p_sh[jj] * v_at(vbase + (j0 + jj) * pc.v_ps + d);
                acc[i] = a;
            }
        }
        m = m_new;
        barrier();
    }
    if (split) {
        uint po = pc.o_off + (h * pc.n_splits + gl_WorkGroupID.y) * (D + 2u);
        if (t == 0u) {
            ov[po] = m;
            ov[po + 1u] = l;
        }
        for (uint i = 0u; i < MAX_DPT; ++i) {
            uint d = t + i * WG;
            if (d < D) ov[po + 2u + d] = acc[i];
        }
        return;
    }
    for (uint i = 0u; i < MAX_DPT; ++i) {
        uint d = t + i * WG;
        if (d < D) ov[pc.o_off + (tok * pc.n_head + h) * D + d] = acc[i] / l;
    }
}
