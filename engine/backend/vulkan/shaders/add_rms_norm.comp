#version 450
// A prompt's residual add fused with the next RMS norm (session 15): per row of n floats (n even),
// with `add` x <- x + t first (written back: the residual stream), then y = x / sqrt(mean(x^2) + eps) * w
// as rms_norm.comp computes it. -DOUT_F16: y is stored as f16 pairs (round to nearest even, one word
// per pair), the activations of the tensor-core matmul's f16-input tiles, so that neither a separate
// add nor a conversion dispatch runs before them. One workgroup per row; each thread reads and writes
// only its own pairs, so x may be updated in place.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) buffer Xbuf { vec2 xv[]; };
layout(std430, binding = 1) readonly buffer Tbuf { vec2 tv[]; };
layout(std430, binding = 2) readonly buffer Wbuf { vec2 wv[]; };
#if defined(OUT_F16)
layout(std430, binding = 3) writeonly buffer Ybuf { uint yv[]; };
#else
layout(std430, binding = 3) writeonly buffer Ybuf { vec2 yv[]; };
#endif
layout(push_constant) uniform PC {
    uint n, nrows, x_off, t_off, w_off, y_off;  // in pairs (2 floats; y: pairs of floats or of halves)
    float eps;
    uint add;
} pc;

void main() {
    uint row = flat_group_id();
    if (row >= pc.nrows) return;
    uint t = gl_LocalInvocationID.x, np = pc.n / 2u;
    uint xo = pc.x_off + row * np, to = pc.t_off + row * np;
    float ss = 0.0;
    for (uint i = t; i < np; i += WG) {
        vec2 v = xv[xo + i];
        if (pc.add != 0u) {
            v += tv[to + i];
            xv[xo + i] = v;
        }
        ss += dot(v, v);
    }
    float inv = inversesqrt(wg_sum(ss) / float(pc.n) + pc.eps);
    uint yo = pc.y_off + row * np;
    for (uint i = t; i < np; i += WG) {
        vec2 y = xv[xo + i] * inv * wv[pc.w_off + i];
#if defined(OUT_F16)
        yv[yo + i] = packHalf2x16(y);
#else
        yv[yo + i] = y;
#endif
    }
}
