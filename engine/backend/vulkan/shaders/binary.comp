#version 450
// y[i] = a[i] (+ or *) b[i % nb]: op 0 = add, 1 = mul.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Abuf { float av[]; };
layout(std430, binding = 1) readonly buffer Bbuf { float bv[]; };
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC { uint n, nb, a_off, b_off, y_off, op; } pc;

void main() {
    uint i = flat_group_id() * WG + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    float a = av[pc.a_off + i], b = bv[pc.b_off + i % pc.nb];
    yv[pc.y_off + i] = pc.op == 0u ? a + b : a * b;
}
