#version 450
// y = x / sqrt(mean(x^2) + eps) * w, one workgroup per row; with quantize, y is then rounded per row as
// quantize_i8.comp does (BitNet b1.58's int8 inputs of the I2_S projections: one dispatch instead of two).
// y may equal x (each thread writes only the elements it read).
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 1) readonly buffer Wbuf { float wv[]; };
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC {
    uint n, nrows, x_off, w_off, y_off;
    float eps;
    uint quantize;
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
    if (pc.quantize == 0u) {
        for (uint i = t; i < pc.n; i += WG) yv[yo + i] = xv[xo + i] * inv * wv[pc.w_off + i];
        return;
    }
    float m = 0.0;
    for (uint i = t; i < pc.n; i += WG) m = max(m, abs(xv[xo + i] * inv * wv[pc.w_off + i]));
    float s = 127.0 / max(wg_max(m), 1e-5);
    for (uint i = t; i < pc.n; i += WG) yv[yo + i] = clamp(roundEven(xv[xo + i] * inv * wv[pc.w_off + i] * s), -128.0, 127.0) / s;
}
