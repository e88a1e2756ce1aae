#version 450
// y = f16(x) for pairs of floats (KV cache stores): thread i converts x[2i], x[2i+1] and writes them as
// one 32-bit word, so that no 16-bit arithmetic types are needed. packHalf2x16 rounds to nearest even
// on every driver we run on (lavapipe: LLVM fptrunc; NVIDIA: cvt.rn.f16.f32).
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 1) writeonly buffer Ybuf { uint yv[]; };
layout(push_constant) uniform PC { uint n_pairs, x_off, y_off; } pc;  // x_off: floats, y_off: words

void main() {
    uint i = flat_group_id() * WG + gl_LocalInvocationID.x;
    if (i >= pc.n_pairs) return;
    yv[pc.y_off + i] = packHalf2x16(vec2(xv[pc.x_off + 2u * i], xv[pc.x_off + 2u * i + 1u]));
}
