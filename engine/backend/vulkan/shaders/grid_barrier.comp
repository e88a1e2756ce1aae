#version 450
// Probe of a grid-wide barrier inside one dispatch (VulkanBackend::measure_grid_barrier): the building
// block a persistent decode kernel would use instead of one dispatch + pipeline barrier per dependent op.
//
// Every workgroup runs pc.rounds rounds. In round r each thread writes one word of its workgroup's slot,
// then the workgroup meets all others at a grid barrier (an arrival counter that only grows: round r
// ends when it reaches (r + 1) * groups), then each thread reads the word its neighbour workgroup wrote
// in that round and counts a mismatch if it is not there. Slots alternate between two halves so that a
// round's writes never meet the previous round's reads.
//
// Vulkan does not promise that all workgroups of a dispatch run at once: a waiting workgroup may keep a
// later one from starting (lavapipe runs a few at a time). The wait therefore gives up after
// pc.spin_limit polls and counts a timeout instead of hanging the device.
#define WG 256
#include "common.glsl"

layout(std430, binding = 0) coherent volatile buffer Counters {
    uint arrive;      // arrivals so far, all rounds
    uint mismatches;  // words read after a barrier that did not hold the value written before it
    uint timeouts;    // waits that gave up
};
layout(std430, binding = 1) coherent buffer Slots { uint slot[]; };  // 2 * groups * WG words

layout(push_constant) uniform Push {
    uint rounds;
    uint spin_limit;
} pc;

uint value(uint r, uint g, uint t) { return (r * 2654435761u) ^ (g * 40503u) ^ t; }

void main() {
    uint g = gl_WorkGroupID.x, n = gl_NumWorkGroups.x, t = gl_LocalInvocationID.x;
    for (uint r = 0u; r < pc.rounds; ++r) {
        uint half_base = (r % 2u) * n * WG;
        slot[half_base + g * WG + t] = value(r, g, t);
        memoryBarrierBuffer();
        barrier();
        if (t == 0u) {
            atomicAdd(arrive, 1u);
            uint target = (r + 1u) * n, polls = 0u;
            while (arrive < target && polls < pc.spin_limit) ++polls;
            if (polls == pc.spin_limit) atomicAdd(timeouts, 1u);
        }
        barrier();
        memoryBarrierBuffer();
        uint h = (g + 1u) % n;
        if (slot[half_base + h * WG + t] != value(r, h, t)) atomicAdd(mismatches, 1u);
    }
}
