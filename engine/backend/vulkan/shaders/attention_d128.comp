#version 450
// Decoding attention (one query token) for head_dim 128, 16-byte aligned key / value rows and at most
// 64 keys per workgroup (split-KV with split_len <= 64, or a whole cache of <= 64 positions): the
// contract of attention.comp (same push constants and bindings, split-KV partials merged by the last
// workgroup of a head, decode fusion with qkv_post's work), laid out so that a workgroup's cache reads
// are one round trip. Before q is normalized and rotated, every thread issues
//   - its key row: thread j scores key j of the workgroup's range (16 loads of 8 halves), and
//   - its share of the value rows: dims 8 (t % 16) .. + 7 of keys t / 16, t / 16 + 4, ... (16 loads),
// then the scores come from registers, one max and one sum over the workgroup give the probabilities,
// and each thread sums its 16 keys' values for its 8 dims; the 4 key groups meet in shared memory.
// attention.comp (any head size, any split) loads keys only after q's preparation and the values in
// batches that each wait for their loads: several dependent round trips per split.
//
// Keys of the range past the cached ones (j >= the count) re-read the range's first row (finite
// values) and get probability 0. The token's own key (fusion) is not in the cache yet; it is scored
// from shared memory and added after the cached ones, as in attention.comp.
#define WG 64
#define D 128u
#define NK 64u  // keys per workgroup at most
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require

layout(std430, binding = 0) readonly buffer Qbuf { float qv[]; };
layout(std430, binding = 1) buffer Kbuf4 { uvec4 kv4[]; };
layout(std430, binding = 1) buffer KbufW { uint kw32[]; };  // pairs of halves (fused store)
layout(std430, binding = 2) buffer Vbuf4 { uvec4 vv4[]; };
layout(std430, binding = 2) buffer VbufW { uint vw32[]; };
layout(std430, binding = 3) coherent buffer Obuf { float ov[]; };  // output, or split-KV partials
layout(std430, binding = 4) writeonly buffer Fbuf { float fv[]; };  // split-KV: the merged output
layout(std430, binding = 5) coherent buffer Cbuf { uint cnt[]; };   // split-KV: one counter per head
layout(std430, binding = 6) readonly buffer Nbuf { float nrm[]; };  // fused: q_norm / k_norm, rope_freqs
// attention.comp's push constants (fields documented there).
layout(push_constant) uniform PC {
    uint head_dim, n_head, n_kv_head, n_kv;
    uint k_off, k_ps, k_hs;
    uint v_off, v_ps, v_hs;
    uint q_off, o_off;
    float scale;
    uint n_tokens;
    uint round_q;
    uint split_len;
    uint n_splits;
    uint f_off;
    uint fuse;
    uint kr_off, vr_off;
    uint qn_off, kn_off;
    uint n_rot, style;
    float log2_base, eps;
    int pos;
    float freq_scale;
    uint ff_off;
} pc;

shared float q_sh[D];
shared float kc_sh[D];  // fused: the token's own k and v (f16-rounded)
shared float vc_sh[D];
shared float nr_sh[D];  // fused: norm + RoPE scratch
shared float p_sh[NK];
shared float o_sh[4u * D];  // the 4 key groups' value sums
shared uint last_sh;
#define MERGE_MAX 256u
shared float w_sh[MERGE_MAX];

#include "attention_common.glsl"

// nr_sh = rope(rms_norm(x) * nrm[nw..]) (the norm only when nw != 0xffffffff) of the head whose dims t
// and t + WG this thread holds (x0, x1), as qkv_post.comp computes it. Uniform control flow.
void norm_rope(float x0, float x1, uint nw) {
    uint t = gl_LocalInvocationID.x;
    barrier();  // earlier readers of nr_sh are done
    if (nw != 0xffffffffu) {
        float inv = inversesqrt(wg_sum(x0 * x0 + x1 * x1) / float(D) + pc.eps);
        x0 = x0 * inv * nrm[nw + t];
        x1 = x1 * inv * nrm[nw + t + WG];
    }
    nr_sh[t] = x0;
    nr_sh[t + WG] = x1;
    barrier();
    uint half_rot = pc.n_rot / 2u;
    if (t < half_rot) {  // pair t: only this thread reads and writes its two dims
        float ff = pc.ff_off != 0xffffffffu ? nrm[pc.ff_off + t] : 1.0;
        float theta = rope_theta(float(pc.pos), t, pc.n_rot, pc.log2_base, pc.freq_scale, ff);
        float c = cos(theta), s = sin(theta);
        uint i0 = pc.style == 0u ? 2u * t : t;
        uint i1 = pc.style == 0u ? i0 + 1u : i0 + half_rot;
        float a = nr_sh[i0], b = nr_sh[i1];
        nr_sh[i0] = a * c - b * s;
        nr_sh[i1] = a * s + b * c;
    }
    barrier();
}

void main() {
    uint h = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    bool split = pc.split_len > 0u;
    uint j_begin = split ? gl_WorkGroupID.y * pc.split_len : 0u;
    uint kvh = h / (pc.n_head / pc.n_kv_head);
    uint n_kv = pc.n_kv;
    bool fused = pc.fuse != 0u;
    uint j_end = split ? min(n_kv, j_begin + pc.split_len) : n_kv;
    bool own = fused && j_end == n_kv;  // this workgroup's keys include the token's own position
    uint nk = (own ? n_kv - 1u : j_end) - j_begin;  // cached keys of the range (0 only with `own`)
    uint g = t % 16u, r = t / 16u;  // value dims 8g .. 8g + 7 of keys r, r + 4, ...

    // Every cache read of the workgroup first (uniform branch: nk is the same for all threads).
    uvec4 kr[16], vr[16];
    if (nk > 0u) {
        uint kb = (pc.k_off + kvh * pc.k_hs) / 8u + (j_begin + min(t, nk - 1u)) * (pc.k_ps / 8u);
        [[unroll]] for (uint i = 0u; i < 16u; ++i) kr[i] = kv4[kb + i];
        uint vb = (pc.v_off + kvh * pc.v_hs) / 8u + g;
        [[unroll]] for (uint i = 0u; i < 16u; ++i) vr[i] = vv4[vb + (j_begin + min(r + 4u * i, nk - 1u)) * (pc.v_ps / 8u)];
    } else {
        [[unroll]] for (uint i = 0u; i < 16u; ++i) kr[i] = vr[i] = uvec4(0u);
    }
    uint qo = pc.q_off + h * D;
    float q0 = qv[qo + t], q1 = qv[qo + t + WG];
    float k0 = 0.0, k1 = 0.0, v0 = 0.0, v1 = 0.0;
    if (own) {
        k0 = qv[pc.kr_off + kvh * D + t];
        k1 = qv[pc.kr_off + kvh * D + t + WG];
        v0 = qv[pc.vr_off + kvh * D + t];
        v1 = qv[pc.vr_off + kvh * D + t + WG];
    }

    if (fused) {  // uniform
        norm_rope(q0, q1, pc.qn_off);
        q0 = nr_sh[t];
        q1 = nr_sh[t + WG];
    }
    q_sh[t] = pc.round_q != 0u ? f16_round(q0) : q0;
    q_sh[t + WG] = pc.round_q != 0u ? f16_round(q1) : q1;
    if (own) {  // uniform
        norm_rope(k0, k1, pc.kn_off);
        kc_sh[t] = f16_round(nr_sh[t]);
        kc_sh[t + WG] = f16_round(nr_sh[t + WG]);
        vc_sh[t] = f16_round(v0);
        vc_sh[t + WG] = f16_round(v1);
        barrier();
        if (h % (pc.n_head / pc.n_kv_head) == 0u) {  // one store per KV head: pair t of the row
            uint kw = (pc.k_off + kvh * pc.k_hs + (n_kv - 1u) * pc.k_ps) / 2u;
            uint vw = (pc.v_off + kvh * pc.v_hs + (n_kv - 1u) * pc.v_ps) / 2u;
            kw32[kw + t] = packHalf2x16(vec2(kc_sh[2u * t], kc_sh[2u * t + 1u]));
            vw32[vw + t] = packHalf2x16(vec2(vc_sh[2u * t], vc_sh[2u * t + 1u]));
        }
    }
    barrier();  // q_sh (and kc_sh) complete

    float s = -1.0e30;
    if (t < nk) {
        float dot = 0.0;
        [[unroll]] for (uint i = 0u; i < 16u; ++i) dot += dot8(kr[i], 8u * i);
        s = dot * pc.scale;
    }
    float s_own = -1.0e30;
    if (own) s_own = wg_sum(q_sh[t] * kc_sh[t] + q_sh[t + WG] * kc_sh[t + WG]) * pc.scale;  // uniform
    float m = max(wg_max(s), s_own);
    float p = t < nk ? exp(s - m) : 0.0;
    float p_own = own ? exp(s_own - m) : 0.0;
    float l = wg_sum(p) + p_own;
    p_sh[t] = p;
    barrier();

    // Values: this thread's 16 keys (probability 0 past nk) for dims 8g .. 8g + 7, in key order.
    float acc[8];
    [[unroll]] for (uint c = 0u; c < 8u; ++c) acc[c] = 0.0;
    [[unroll]] for (uint i = 0u; i < 16u; ++i) {
        float pj = p_sh[r + 4u * i];
        vec2 a = unpackHalf2x16(vr[i].x), b = unpackHalf2x16(vr[i].y), c = unpackHalf2x16(vr[i].z), e = unpackHalf2x16(vr[i].w);
        acc[0] += pj * a.x;
        acc[1] += pj * a.y;
        acc[2] += pj * b.x;
        acc[3] += pj * b.y;
        acc[4] += pj * c.x;
        acc[5] += pj * c.y;
        acc[6] += pj * e.x;
        acc[7] += pj * e.y;
    }
    if (own && r == 0u) {
        [[unroll]] for (uint c = 0u; c < 8u; ++c) acc[c] += p_own * vc_sh[8u * g + c];
    }
    [[unroll]] for (uint c = 0u; c < 8u; ++c) o_sh[r * D + 8u * g + c] = acc[c];
    barrier();
    float o0 = (o_sh[t] + o_sh[D + t]) + (o_sh[2u * D + t] + o_sh[3u * D + t]);
    float o1 = (o_sh[t + WG] + o_sh[D + t + WG]) + (o_sh[2u * D + t + WG] + o_sh[3u * D + t + WG]);

    if (!split) {
        ov[pc.o_off + h * D + t] = o0 / l;
        ov[pc.o_off + h * D + t + WG] = o1 / l;
        return;
    }
    uint stride = D + 2u, base = pc.o_off + h * pc.n_splits * stride;
    uint po = base + gl_WorkGroupID.y * stride;
    if (t == 0u) {
        ov[po] = m;
        ov[po + 1u] = l;
    }
    ov[po + 2u + t] = o0;
    ov[po + 2u + t + WG] = o1;
    // The last of the head's workgroups to finish merges the partials (attention.comp's merge).
    memoryBarrierBuffer();  // the partials are visible before the counter increment
    barrier();
    if (t == 0u) last_sh = atomicAdd(cnt[h], 1u) == pc.n_splits - 1u ? 1u : 0u;
    barrier();
    if (last_sh == 0u) return;
    memoryBarrierBuffer();
    uint ns = pc.n_splits;
    // (m, l) of split t read together; later splits (more than WG) re-read.
    float m_t = -1.0e30, l_t = 0.0;
    if (t < ns) {
        m_t = ov[base + t * stride];
        l_t = ov[base + t * stride + 1u];
    }
    float mt = m_t;
    for (uint sp = t + WG; sp < ns; sp += WG) mt = max(mt, ov[base + sp * stride]);
    float M = wg_max(mt);
    float lt = 0.0;
    if (t < ns) {
        float w = exp(m_t - M);
        lt = l_t * w;
        w_sh[t] = w;
    }
    for (uint sp = t + WG; sp < ns; sp += WG) {
        float w = exp(ov[base + sp * stride] - M);
        lt += ov[base + sp * stride + 1u] * w;
        if (sp < MERGE_MAX) w_sh[sp] = w;
    }
    float L = wg_sum(lt);  // its barriers also publish w_sh
    // Both dims of this thread, 8 splits at a time (16 loads in flight), in split order.
    float a0 = 0.0, a1 = 0.0;
    uint sp = 0u;
    for (; sp + 8u <= ns; sp += 8u) {
        float x0[8], x1[8];
        [[unroll]] for (uint u = 0u; u < 8u; ++u) {
            x0[u] = ov[base + (sp + u) * stride + 2u + t];
            x1[u] = ov[base + (sp + u) * stride + 2u + t + WG];
        }
        [[unroll]] for (uint u = 0u; u < 8u; ++u) {
            uint su = sp + u;
            float w = su < MERGE_MAX ? w_sh[su] : exp(ov[base + su * stride] - M);
            a0 += x0[u] * w;
            a1 += x1[u] * w;
        }
    }
    for (; sp < ns; ++sp) {
        float w = sp < MERGE_MAX ? w_sh[sp] : exp(ov[base + sp * stride] - M);
        a0 += ov[base + sp * stride + 2u + t] * w;
        a1 += ov[base + sp * stride + 2u + t + WG] * w;
    }
    fv[pc.f_off + h * D + t] = a0 / L;
    fv[pc.f_off + h * D + t + WG] = a1 / L;
    if (t == 0u) cnt[h] = 0u;
}
