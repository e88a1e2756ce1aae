#version 450
// Rotary position embedding in place on x[n_tokens][n_heads][head_dim]: one thread per rotated pair.
// Pair i (< n_rot/2) of token t rotates by pos[t] * base^(-2i/n_rot); style 0 (NORM) pairs
// (2i, 2i+1), style 1 (NEOX) pairs (i, i + n_rot/2). Dimensions >= n_rot are not touched.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) buffer Xbuf { float xv[]; };
layout(std430, binding = 1) readonly buffer Pbuf { int pos[]; };
layout(push_constant) uniform PC {
    uint head_dim, n_heads, n_tokens, n_rot, x_off, p_off;
    float log2_base;
    uint style;
} pc;

void main() {
    uint half_rot = pc.n_rot / 2u;
    uint id = flat_group_id() * WG + gl_LocalInvocationID.x;
    if (id >= pc.n_tokens * pc.n_heads * half_rot) return;
    uint i = id % half_rot;
    uint th = id / half_rot;  // token * n_heads + head
    uint tok = th / pc.n_heads;
    float theta = rope_theta(float(pos[pc.p_off + tok]), i, pc.n_rot, pc.log2_base, 1.0, 1.0);
    float c = cos(theta), s = sin(theta);
    uint base = pc.x_off + th * pc.head_dim;
    uint i0 = pc.style == 0u ? base + 2u * i : base + i;
    uint i1 = pc.style == 0u ? i0 + 1u : i0 + half_rot;
    float x0 = xv[i0], x1 = xv[i1];
    xv[i0] = x0 * c - x1 * s;
    xv[i1] = x0 * s + x1 * c;
}
