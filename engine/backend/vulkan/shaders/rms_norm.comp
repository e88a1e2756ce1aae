#version 450
// y = x / sqrt(mean(x^2) + eps) * w, one workgroup per row.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 1) readonly buffer Wbuf { float wv[]; };
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC {
    uint n, nrows, x_off, w_off, y_off;
    float eps;
} pc;

void main() {
    uint row = flat_group_id();
    if (row >= pc.nrows) return;
    uint t = gl_LocalInvocationID.x;
    uint xo = pc.x_off + row * pc.n;
    float ss = 0.0;
    for (uint i = t; i < pc.n; i += WG) { float v = xv[xo + i]; ss += v * v; }
    float inv = inversesqrt(wg_sum(ss) / float(pc.n) + pc.eps);
    uint yo = pc.y_off + row * pc.n;
    for (uint i = t; i < pc.n; i += WG) yv[yo + i] = xv[xo + i] * inv * wv[pc.w_off + i];
}
