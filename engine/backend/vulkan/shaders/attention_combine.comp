#version 450
// Second half of split-KV decoding attention (attention.comp with split_len > 0): merges the
// n_splits partials (m, l, unnormalized out[D]) of each head into out[h][D] with the usual
// log-sum-exp rescaling. One workgroup per head.
#define WG 64
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Pbuf { float pv[]; };
layout(std430, binding = 1) writeonly buffer Obuf { float ov[]; };
layout(push_constant) uniform PC {
    uint head_dim, n_splits, p_off, o_off;  // offsets in floats
} pc;

void main() {
    uint h = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    uint D = pc.head_dim, stride = D + 2u;
    uint base = pc.p_off + h * pc.n_splits * stride;
    float M = -1.0e30;
    for (uint s = 0u; s < pc.n_splits; ++s) M = max(M, pv[base + s * stride]);
    float L = 0.0;
    for (uint s = 0u; s < pc.n_splits; ++s) L += pv[base + s * stride + 1u] * exp(pv[base + s * stride] - M);
    for (uint d = t; d < D; d += WG) {
        float a = 0.0;
        for (uint s = 0u; s < pc.n_splits; ++s) a += pv[base + s * stride + 2u + d] * exp(pv[base + s * stride] - M);
        ov[pc.o_off + h * D + d] = a / L;
    }
}
