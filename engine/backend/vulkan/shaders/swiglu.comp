#version 450
// y = silu(g) * u = g / (1 + exp(-g)) * u.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Gbuf { float gv[]; };
layout(std430, binding = 1) readonly buffer Ubuf { float uv[]; };
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC { uint n, g_off, u_off, y_off; } pc;

void main() {
    uint i = flat_group_id() * WG + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    float g = gv[pc.g_off + i];
    yv[pc.y_off + i] = g / (1.0 + exp(-g)) * uv[pc.u_off + i];
}
