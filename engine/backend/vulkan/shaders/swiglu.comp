#version 450
// y = silu(g) * u = g / (1 + exp(-g)) * u, or with relu2 (BitNet b1.58's FFN) y = max(g, 0)^2 * u.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Gbuf { float gv[]; };
layout(std430, binding = 1) readonly buffer Ubuf { float uv[]; };
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC { uint n, g_off, u_off, y_off, relu2; } pc;

void main() {
    uint i = flat_group_id() * WG + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    float g = gv[pc.g_off + i];
    float r = max(g, 0.0);
    yv[pc.y_off + i] = (pc.relu2 != 0u ? r * r : g / (1.0 + exp(-g))) * uv[pc.u_off + i];
}
