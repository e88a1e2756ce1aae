#version 450
// y = softmax(scale * x) per row of n, one workgroup per row (y may alias x: each element is read
// before it is written by the same thread).
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) buffer Xbuf { float xv[]; };
layout(std430, binding = 1) buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC {
    uint n, nrows, x_off, y_off;
    float scale;
} pc;

void main() {
    uint row = flat_group_id();
    if (row >= pc.nrows) return;
    uint t = gl_LocalInvocationID.x;
    uint xo = pc.x_off + row * pc.n, yo = pc.y_off + row * pc.n;
    float m = -3.0e38;
    for (uint i = t; i < pc.n; i += WG) m = max(m, pc.scale * xv[xo + i]);
    m = wg_max(m);
    float s = 0.0;
    for (uint i = t; i < pc.n; i += WG) s += exp(pc.scale * xv[xo + i] - m);
    float inv = 1.0 / wg_sum(s);
    for (uint i = t; i < pc.n; i += WG) yv[yo + i] = exp(pc.scale * xv[xo + i] - m) * inv;
}
