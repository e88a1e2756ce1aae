#version 450
// y[row] = dot(W[row], x): one workgroup per row; threads stride over 32-element chunks (block
// types) or elements (F32/F16), then a subgroup + shared-memory reduction.
#define WG 64
#include "common.glsl"

layout(std430, binding = 1) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC {
    uint w_base;      // bytes (block types) or elements (F32/F16)
    uint row_stride;  // same unit
    uint ne0;
    uint rows;
    uint x_off;       // floats
    uint y_off;       // floats
} pc;

#include "dequant.glsl"

void main() {
    uint row = flat_group_id();
    if (row >= pc.rows) return;  // whole workgroup leaves together
    uint t = gl_LocalInvocationID.x;
    uint ro = pc.w_base + row * pc.row_stride;
    float acc = 0.0;
#ifdef CHUNKED
    uint nch = pc.ne0 / 32u;
    for (uint c = t; c < nch; c += WG) acc += dot_chunk(ro, c, pc.x_off);
#else
    for (uint k = t; k < pc.ne0; k += WG) acc += deq(ro, k) * xv[pc.x_off + k];
#endif
    float s = wg_sum(acc);
    if (t == 0u) yv[pc.y_off + row] = s;
}
