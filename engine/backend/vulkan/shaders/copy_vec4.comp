#version 450
// y = x in 16-byte words: the device-bandwidth measurement (VulkanBackend::measure_copy_bandwidth).
// Thread i of a grid of `stride` threads copies words i, i + stride, ..., COPIES of them: every load of
// a warp is one contiguous 512-byte run, and each thread keeps COPIES loads in flight. A plain 4-byte
// copy (scale.comp) read about half of what an H200 delivers.
#define WG 256
#define COPIES 8u
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Xbuf { uvec4 xv[]; };
layout(std430, binding = 1) writeonly buffer Ybuf { uvec4 yv[]; };
layout(push_constant) uniform PC { uint n, stride; } pc;  // n words; stride = threads in the grid

void main() {
    const uint i = flat_group_id() * WG + gl_LocalInvocationID.x;
    if (i >= pc.stride) return;  // padding workgroups of a two-dimensional grid
    uvec4 w[COPIES];
    for (uint c = 0; c < COPIES; ++c) {
        const uint j = i + c * pc.stride;
        if (j < pc.n) w[c] = xv[j];
    }
    for (uint c = 0; c < COPIES; ++c) {
        const uint j = i + c * pc.stride;
        if (j < pc.n) yv[j] = w[c];
    }
}
