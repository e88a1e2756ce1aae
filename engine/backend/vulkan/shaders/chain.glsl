// Chained dispatches (VulkanBackend::Impl::record_dispatch, docs/vulkan.md "Chained dispatches"): a
// dispatch that follows another chained one in the same command stream has no pipeline barrier
// between them. Instead its workgroups start while the previous one still runs, do whatever does not
// depend on it (attention: load the cache rows), and then wait in chain_wait() until every workgroup
// of the previous dispatch has passed chain_signal(). That removes the barrier's drain-and-relaunch gap
// (most of a small dispatch's cost on a big GPU) from the decode step's chain of dependent ops.
//
// Include after the push constants, with CHAIN_BINDING (the binding of the chain buffer) and
// CHAIN_WORD (the push constant that holds the chain word) defined, and call chain_wait() and
// chain_signal() in uniform control flow, each exactly once per workgroup (chain_signal() after the
// workgroup's last write). Data written by the previous dispatches must be read through `coherent`
// bindings: there is no barrier to make stale per-multiprocessor caches invalid.
//
// The chain word: bits 0-11 this dispatch's slot (1 .. CHAIN_SLOTS - 1; 0: not chained, both calls do
// nothing), bit 12 wait for the previous slot (slot - 1, or CHAIN_SLOTS - 1 before slot 1), bits 13-31
// the recording's epoch. Chain buffer (words; host-visible device memory): [0] set by a wait that gave
// up, [CHAIN_CNT + s] workgroups of slot s that arrived (reset by the last one), [CHAIN_DONE + s] the
// epoch of slot s's last completed dispatch. Waits are bounded: a device that does not run the
// dispatches' workgroups side by side makes the wait give up and set word 0; the host then runs the
// step again without chains (VulkanBackend::take_chain_failure).
#define CHAIN_SLOTS 4096u
#define CHAIN_CNT 64u
#define CHAIN_REPLICAS 32u
#define CHAIN_DONE (CHAIN_CNT + CHAIN_SLOTS)
#define CHAIN_MAX_POLLS (1u << 18)

layout(std430, binding = CHAIN_BINDING) coherent volatile buffer ChainBuf { uint chain_w[]; };
shared uint chain_last_sh;

void chain_wait() {
    uint c = CHAIN_WORD;
    if ((c & 0x1000u) == 0u) return;  // uniform: a push constant
    if (gl_LocalInvocationIndex == 0u) {
        uint s = c & 0xFFFu;
        uint prev = s == 1u ? CHAIN_SLOTS - 1u : s - 1u;
        uint epoch = c >> 13u;
        uint rep = (gl_WorkGroupID.x + gl_WorkGroupID.y * 7u) % CHAIN_REPLICAS;
        uint idx = CHAIN_DONE + rep * CHAIN_SLOTS + prev;
        uint zero = gl_NumWorkGroups.z - 1u;  // 0, unknown to the compiler: keeps the back-off loop
        uint spin = c;
        for (uint n = 0u; chain_w[idx + (spin & zero)] != epoch; ++n) {
            if (n == CHAIN_MAX_POLLS) {
                atomicOr(chain_w[0], 1u);
                break;
            }
            if (chain_w[0] != 0u) break;  // another wait gave up already: the step runs again
            for (uint k = 0u; k < 64u; ++k) spin = spin * 1664525u + 1013904223u;
        }
    }
    barrier();
    memoryBarrierBuffer();
}

void chain_signal() {
    uint c = CHAIN_WORD;
    uint s = c & 0xFFFu;
    if (s == 0u) return;  // uniform
    memoryBarrierBuffer();  // this workgroup's writes are visible before it is counted
    barrier();
    uint t = gl_LocalInvocationIndex;
    if (t == 0u) {
        uint groups = gl_NumWorkGroups.x * gl_NumWorkGroups.y * gl_NumWorkGroups.z;
        bool last = atomicAdd(chain_w[CHAIN_CNT + s], 1u) == groups - 1u;
        if (last) chain_w[CHAIN_CNT + s] = 0u;
        chain_last_sh = last ? 1u : 0u;
    }
    barrier();
    if (chain_last_sh != 0u && t < CHAIN_REPLICAS) {
        memoryBarrierBuffer();
        atomicExchange(chain_w[CHAIN_DONE + t * CHAIN_SLOTS + s], c >> 13u);
    }
}
