#version 450
// y = silu(g) * u = g / (1 + exp(-g)) * u, or with relu2 (BitNet b1.58's FFN) y = max(g, 0)^2 * u.
// -DOUT_F16 (swiglu_f16): y as f16, thread i computing values 2i and 2i + 1 into one word (n even), the
// input of the tensor-core matmul's f16-input tiles (no conversion dispatch before the down projection).
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Gbuf { float gv[]; };
layout(std430, binding = 1) readonly buffer Ubuf { float uv[]; };
#if defined(OUT_F16)
layout(std430, binding = 2) writeonly buffer Ybuf { uint yv[]; };
#else
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
#endif
layout(push_constant) uniform PC { uint n, g_off, u_off, y_off, relu2; } pc;  // y_off: words with OUT_F16

float act(uint i) {
    float g = gv[pc.g_off + i];
    float r = max(g, 0.0);
    return (pc.relu2 != 0u ? r * r : g / (1.0 + exp(-g))) * uv[pc.u_off + i];
}

void main() {
    uint i = flat_group_id() * WG + gl_LocalInvocationID.x;
#if defined(OUT_F16)
    if (2u * i >= pc.n) return;
    yv[pc.y_off + i] = packHalf2x16(vec2(act(2u * i), act(2u * i + 1u)));
#else
    if (i >= pc.n) return;
    yv[pc.y_off + i] = act(i);
#endif
}
