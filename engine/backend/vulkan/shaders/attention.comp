#version 450
// Query tokens over an f16 KV cache, one workgroup per (query head, query token) (grouped-query
// attention: head h reads kv head h / (n_head / n_kv_head)). Query token t of n_tokens sees positions
// 0 .. n_kv - n_tokens + t (causal mask of a prompt batch; n_tokens = 1 for decoding). Keys are walked
// in chunks of WG with an online softmax: thread j scores key j of the chunk, then thread t accumulates output dims t, t+WG, ...
// Split-KV decoding (split_len > 0) also merges the partials in the same dispatch (see PC.split_len).
// Decode fusion (fuse = 1, one query token): the dispatch also does qkv_post's work for the token
// (qkv_post.comp, same arithmetic): every workgroup normalizes and rotates its q head from the raw
// projection; the workgroups whose keys include the token's own position (n_kv - 1) compute its k
// (norm, RoPE, f16 rounding) and f16 v and use them for that key instead of the cache, and those of
// the first q head of each KV group store them into the cache. No workgroup reads that cache row,
// so the store needs no ordering within the dispatch. One dispatch and barrier fewer per layer.
#define WG 64
// Output dims per thread: head_dim <= WG * MAX_DPT. Built three times (CMakeLists.txt): MAX_DPT 1, 2
// and 8 (head_dim <= 64, <= 128, <= 512); the dims loops are branch-free so that they unroll and acc
// stays in registers (a clamped dim re-reads a valid value and its result is dropped).
#ifndef MAX_DPT
#define MAX_DPT 8
#endif
// Loads in flight: 16-byte key loads per thread (KL) and keys per value batch (VB, MAX_DPT loads each);
// fewer for the 8-dims-per-thread build (registers).
#if MAX_DPT >= 8
#define KL 4u
#define VB 8u
#else
#define KL 8u
#define VB 16u
#endif
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require

layout(std430, binding = 0) readonly buffer Qbuf { float qv[]; };
layout(std430, binding = 1) buffer Kbuf { uint16_t kv[]; };
layout(std430, binding = 1) buffer Kbuf4 { uvec4 kv4[]; };  // same keys, 8 halves per load
layout(std430, binding = 1) buffer KbufW { uint kw32[]; };  // pairs of halves (fused store)
layout(std430, binding = 2) buffer Vbuf { uint16_t vv[]; };
layout(std430, binding = 2) buffer VbufW { uint vw32[]; };
// Output; in split-KV mode the partials, read back (coherently) by the workgroup that merges them.
layout(std430, binding = 3) coherent buffer Obuf { float ov[]; };
layout(std430, binding = 4) writeonly buffer Fbuf { float fv[]; };  // split-KV: the merged output
layout(std430, binding = 5) coherent buffer Cbuf { uint cnt[]; };   // split-KV: one counter per head (0 between dispatches)
layout(std430, binding = 6) readonly buffer Nbuf { float nrm[]; };  // fused: q_norm / k_norm weights, rope_freqs
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
                             // ov[o_off + (h * n_splits + s) * (D + 2)]; the last workgroup of a head
                             // to finish (atomic counter) merges them into fv[f_off + h * D ..]
    uint n_splits;
    uint f_off;              // floats (split-KV only)
    uint fuse;               // 1: decode fusion (see above); q_off then points at the raw q projection
    uint kr_off, vr_off;     // floats (binding 0): the token's raw k and v projections (fused)
    uint qn_off, kn_off;     // floats (binding 6); 0xffffffff: no norm (fused)
    uint n_rot, style;       // RoPE: rotated dims, 0 NORM / 1 NEOX (fused)
    float log2_base, eps;    // RoPE frequency base (log2), RMS norm epsilon (fused)
    int pos;                 // the token's position (fused)
    float freq_scale;        // linear RoPE scaling (fused)
    uint ff_off;             // floats (binding 6): rope_freqs factors; 0xffffffff: none (fused)
} pc;
shared uint last_sh;  // split-KV: this workgroup finished its head last

shared float q_sh[WG * MAX_DPT];
shared float kc_sh[WG * MAX_DPT];  // fused: the token's own k and v (f16-rounded)
shared float vc_sh[WG * MAX_DPT];
shared float nr_sh[WG * MAX_DPT];  // fused: norm + RoPE scratch
shared float p_sh[WG];
// Split-KV merge: the weights exp(m_s - M) of the first MERGE_MAX splits (later ones are recomputed).
#define MERGE_MAX 256u
shared float w_sh[MERGE_MAX];

// 16-bit values may only live in buffers (no shaderInt16 needed): widen at the load.
float k_at(uint i) { return unpackHalf2x16(uint(kv[i])).x; }
float v_at(uint i) { return unpackHalf2x16(uint(vv[i])).x; }

#include "attention_common.glsl"

// Fused mode: nr_sh[0..D) = rope(rms_norm(qv[src..]) * nrm[nw..]) (the norm only when nw !=
// 0xffffffff), as qkv_post.comp computes it. Uniform control flow (barriers).
void norm_rope(uint src, uint nw) {
    uint D = pc.head_dim, t = gl_LocalInvocationID.x;
    barrier();  // earlier readers of nr_sh are done
    for (uint i = t; i < D; i += WG) nr_sh[i] = qv[src + i];
    barrier();
    if (nw != 0xffffffffu) {
        float ss = 0.0;
        for (uint i = t; i < D; i += WG) ss += nr_sh[i] * nr_sh[i];
        float inv = inversesqrt(wg_sum(ss) / float(D) + pc.eps);
        for (uint i = t; i < D; i += WG) nr_sh[i] = nr_sh[i] * inv * nrm[nw + i];
    }
    barrier();
    uint half_rot = pc.n_rot / 2u;
    float p = float(pc.pos);
    for (uint i = t; i < half_rot; i += WG) {
        float ff = pc.ff_off != 0xffffffffu ? nrm[pc.ff_off + i] : 1.0;
        float theta = rope_theta(p, i, pc.n_rot, pc.log2_base, pc.freq_scale, ff);
        float c = cos(theta), s = sin(theta);
        uint i0 = pc.style == 0u ? 2u * i : i;
        uint i1 = pc.style == 0u ? i0 + 1u : i0 + half_rot;
        float x0 = nr_sh[i0], x1 = nr_sh[i1];
        nr_sh[i0] = x0 * c - x1 * s;
        nr_sh[i1] = x0 * s + x1 * c;
    }
    barrier();
}

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
    bool fused = pc.fuse != 0u;
    uint j_end = split ? min(n_kv, j_begin + pc.split_len) : n_kv;
    bool own = fused && j_end == n_kv;  // this workgroup's keys include the token's own position
    if (fused) {  // uniform
        norm_rope(qo, pc.qn_off);
        for (uint d = t; d < D; d += WG) q_sh[d] = pc.round_q != 0u ? f16_round(nr_sh[d]) : nr_sh[d];
        if (own) {  // uniform
            norm_rope(pc.kr_off + kvh * D, pc.kn_off);
            for (uint d = t; d < D; d += WG) {
                kc_sh[d] = f16_round(nr_sh[d]);
                vc_sh[d] = f16_round(qv[pc.vr_off + kvh * D + d]);
            }
            barrier();
            if (h % (pc.n_head / pc.n_kv_head) == 0u) {  // one store per KV head
                uint kw = (pc.k_off + kvh * pc.k_hs + (n_kv - 1u) * pc.k_ps) / 2u;
                uint vw = (pc.v_off + kvh * pc.v_hs + (n_kv - 1u) * pc.v_ps) / 2u;
                for (uint i = t; i < D / 2u; i += WG) {
                    kw32[kw + i] = packHalf2x16(vec2(kc_sh[2u * i], kc_sh[2u * i + 1u]));
                    vw32[vw + i] = packHalf2x16(vec2(vc_sh[2u * i], vc_sh[2u * i + 1u]));
                }
            }
        }
    } else {
        for (uint d = t; d < D; d += WG) {
            float x = qv[qo + d];
            q_sh[d] = pc.round_q != 0u ? f16_round(x) : x;
        }
    }
    barrier();

    // acc stays in registers only when every loop over i is unrolled (constant indices).
    float acc[MAX_DPT];
    [[unroll]] for (uint i = 0u; i < MAX_DPT; ++i) acc[i] = 0.0;
    float m = -1.0e30;  // running max (finite so that exp(m - m_new) never sees inf - inf)
    float l = 0.0;      // running sum of exp(score - m)
    uint kbase = pc.k_off + kvh * pc.k_hs;
    // Every key row starts on a 16-byte boundary: read it as uvec4 (the model's cache layout).
    bool k_vec = ((pc.k_off | pc.k_ps | pc.k_hs | D) & 7u) == 0u;
    uint vbase = pc.v_off + kvh * pc.v_hs;

    // The token's own key (fused) is not in the cache yet: the loop stops before it and it is added
    // after the loop from kc_sh / vc_sh (no per-key test inside the loops).
    uint j_stop = own ? n_kv - 1u : j_end;
    for (uint j0 = j_begin; j0 < j_stop; j0 += WG) {
        uint j = j0 + t;
        float s = -1.0e30;
        if (j < j_stop) {
            uint ko = kbase + j * pc.k_ps;
            float dot = 0.0;
            if (k_vec) {  // 16-byte loads: 8x fewer load instructions for the key row
                // Four loads issued before their products: one load in flight per iteration left
                // a decode step's attention latency-bound (H100: ~23 us per layer at 600 keys).
                uint n8 = D / 8u, d8 = 0u;
                for (; d8 + KL <= n8; d8 += KL) {
                    uvec4 w4[KL];
                    [[unroll]] for (uint u = 0u; u < KL; ++u) w4[u] = kv4[ko / 8u + d8 + u];
                    [[unroll]] for (uint u = 0u; u < KL; ++u) dot += dot8(w4[u], 8u * (d8 + u));
                }
                for (; d8 < n8; ++d8) dot += dot8(kv4[ko / 8u + d8], 8u * d8);
            } else {
                for (uint d = 0u; d < D; ++d) dot += q_sh[d] * k_at(ko + d);
            }
            s = dot * pc.scale;
        }
        float m_new = max(m, wg_max(s));
        float p = j < j_stop ? exp(s - m_new) : 0.0;
        float alpha = exp(m - m_new);
        l = l * alpha + wg_sum(p);
        p_sh[t] = p;
        barrier();
        uint cnt = min(uint(WG), j_stop - j0);
        // Keys outermost, output dims innermost, VB value loads in flight per dim, products added in
        // key order.
        [[unroll]] for (uint i = 0u; i < MAX_DPT; ++i) acc[i] *= alpha;
        uint jj = 0u;
        for (; jj + VB <= cnt; jj += VB) {
            float pj[VB];
            [[unroll]] for (uint u = 0u; u < VB; ++u) pj[u] = p_sh[jj + u];
            [[unroll]] for (uint i = 0u; i < MAX_DPT; ++i) {
                uint d = min(t + i * WG, D - 1u);
                float vv[VB];
                [[unroll]] for (uint u = 0u; u < VB; ++u) vv[u] = v_at(vbase + (j0 + jj + u) * pc.v_ps + d);
                float a = acc[i];
                [[unroll]] for (uint u = 0u; u < VB; ++u) a += pj[u] * vv[u];
                acc[i] = a;
            }
        }
        for (; jj < cnt; ++jj) {
            float pj = p_sh[jj];
            [[unroll]] for (uint i = 0u; i < MAX_DPT; ++i) acc[i] += pj * v_at(vbase + (j0 + jj) * pc.v_ps + min(t + i * WG, D - 1u));
        }
        m = m_new;
        barrier();
    }
    if (own) {  // uniform
        float part = 0.0;
        for (uint d = t; d < D; d += WG) part += q_sh[d] * kc_sh[d];
        float sc = wg_sum(part) * pc.scale;
        float m_new = max(m, sc);
        float alpha = exp(m - m_new), p = exp(sc - m_new);
        l = l * alpha + p;
        [[unroll]] for (uint i = 0u; i < MAX_DPT; ++i) acc[i] = acc[i] * alpha + p * vc_sh[min(t + i * WG, D - 1u)];
        m = m_new;
    }
    if (split) {
        uint po = pc.o_off + (h * pc.n_splits + gl_WorkGroupID.y) * (D + 2u);
        if (t == 0u) {
            ov[po] = m;
            ov[po + 1u] = l;
        }
        [[unroll]] for (uint i = 0u; i < MAX_DPT; ++i) {
            uint d = t + i * WG;
            if (d < D) ov[po + 2u + d] = acc[i];
        }
        // Merge (was a second dispatch): the last of the head's workgroups combines the n_splits
        // partials with the log-sum-exp rescaling, in split order, and resets the counter.
        memoryBarrierBuffer();  // the partials are visible before the counter increment
        barrier();
        if (t == 0u) last_sh = atomicAdd(cnt[h], 1u) == pc.n_splits - 1u ? 1u : 0u;
        barrier();
        if (last_sh == 0u) return;
        memoryBarrierBuffer();
        // The merge is on the dispatch's critical path: the splits' (m, l) are read by the threads
        // in parallel (one split each) and their weights exp(m - M) shared, and each output dim
        // sums the splits with 8 loads in flight, in split order.
        uint stride = D + 2u, base = pc.o_off + h * pc.n_splits * stride;
        float mt = -1.0e30;
        for (uint s = t; s < pc.n_splits; s += WG) mt = max(mt, ov[base + s * stride]);
        float M = wg_max(mt);
        float lt = 0.0;
        for (uint s = t; s < pc.n_splits; s += WG) {
            float w = exp(ov[base + s * stride] - M);
            lt += ov[base + s * stride + 1u] * w;
            if (s < MERGE_MAX) w_sh[s] = w;
        }
        float L = wg_sum(lt);  // its barriers also publish w_sh
        for (uint d = t; d < D; d += WG) {
            float a = 0.0;
            uint s = 0u;
            for (; s + 8u <= pc.n_splits; s += 8u) {
                float pv[8];
                [[unroll]] for (uint u = 0u; u < 8u; ++u) pv[u] = ov[base + (s + u) * stride + 2u + d];
                [[unroll]] for (uint u = 0u; u < 8u; ++u) {
                    uint su = s + u;
                    a += pv[u] * (su < MERGE_MAX ? w_sh[su] : exp(ov[base + su * stride] - M));
                }
            }
            for (; s < pc.n_splits; ++s)
                a += ov[base + s * stride + 2u + d] * (s < MERGE_MAX ? w_sh[s] : exp(ov[base + s * stride] - M));
            fv[pc.f_off + h * D + d] = a / L;
        }
        if (t == 0u) cnt[h] = 0u;
        return;
    }
    [[unroll]] for (uint i = 0u; i < MAX_DPT; ++i) {
        uint d = t + i * WG;
        if (d < D) ov[pc.o_off + (tok * pc.n_head + h) * D + d] = acc[i] / l;
    }
}
