#version 450
// BitNet b1.58's activation quantization (formats.md 2.3.10, the fork's quantize_row_i8_s) on rows of n
// floats, one workgroup per row: g = max(max |x|, 1e-5), s = 127 / g, y = clamp(roundEven(x s), -128,
// 127) / s. An I2_S matmul over y equals scale g / 127 sum (code - 1) a, the fork's integer result, up to
// float rounding. y may equal x.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 1) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC { uint n, nrows, x_off, y_off; } pc;

void main() {
    uint r = flat_group_id(), t = gl_LocalInvocationID.x;
    if (r >= pc.nrows) return;  // uniform over the workgroup
    uint xo = pc.x_off + r * pc.n, yo = pc.y_off + r * pc.n;
    float m = 0.0;
    for (uint i = t; i < pc.n; i += WG) m = max(m, abs(xv[xo + i]));
    float s = 127.0 / max(wg_max(m), 1e-5);  // wg_max's barriers: every x is read before any y is written
    for (uint i = t; i < pc.n; i += WG) yv[yo + i] = clamp(roundEven(xv[xo + i] * s), -128.0, 127.0) / s;
}
