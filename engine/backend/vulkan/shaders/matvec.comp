#version 450
// y[row] = dot(W[row], x). Each workgroup takes RPW consecutive rows and each subgroup one row at a
// time (rows gl_SubgroupID, + gl_NumSubgroups, ... of the workgroup's RPW): its lanes stride over the
// elements and one subgroupAdd finishes the row, with no shared memory or barrier. Correct for any
// subgroup size (NVIDIA 32, AMD 64, lavapipe 8): idle subgroups simply find no row.
#define WG 128
#define RPW 4u
#include "common.glsl"

layout(std430, binding = 1) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 2) buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC {
    uint w_base;      // bytes (block types) or elements (F32/F16)
    uint row_stride;  // same unit
    uint ne0;
    uint rows;
    uint x_off;       // floats
    uint y_off;       // floats
    uint accumulate;  // 1: y[row] += result (residual add fused), 0: y[row] = result
} pc;

#include "dequant.glsl"

void main() {
    deq_init();
    uint row0 = flat_group_id() * RPW;
    uint lane = gl_SubgroupInvocationID;
    uint ns = gl_SubgroupSize;
    for (uint r = gl_SubgroupID; r < RPW; r += gl_NumSubgroups) {
        uint row = row0 + r;
        if (row >= pc.rows) break;  // uniform within the subgroup
        uint ro = pc.w_base + row * pc.row_stride;
        float acc = 0.0;
        // Lane l takes elements l, l + ns, ...: the x loads of a subgroup are consecutive floats
        // (coalesced) and its weight loads fall into one block (broadcast). Giving each lane a whole
        // 32-element chunk instead (dot_chunk) made every x load touch 32 cache lines, which measured
        // 15-30x slower on an H100.
        for (uint k = lane; k < pc.ne0; k += ns) acc += deq(ro, k) * xv[pc.x_off + k];
        float s = subgroupAdd(acc);
        if (subgroupElect()) yv[pc.y_off + row] = pc.accumulate != 0u ? yv[pc.y_off + row] + s : s;
    }
}
