#version 450
// y = s * x.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 1) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC { uint n, x_off, y_off; float s; } pc;

void main() {
    uint i = flat_group_id() * WG + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    yv[pc.y_off + i] = pc.s * xv[pc.x_off + i];
}
