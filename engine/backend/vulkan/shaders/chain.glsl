// Ordered dispatch chains (VulkanBackend::set_chaining; decode steps). A chained dispatch is recorded
// without a pipeline barrier after it, so the GPU may start the next one while it still runs. Every
// workgroup of a chained dispatch signals a device counter when its results are written
// (chain_signal); the next dispatch's workgroups issue their loads that do not depend on those results
// (weights) and then wait until the counter reaches the previous dispatch's workgroup count
// (chain_wait) before reading its outputs. Since a dispatch waits only on the one before it, and that
// one's workgroups each waited on theirs before signalling, a passed wait means every earlier
// dispatch of the chain has finished: its outputs are complete and no later write can race its reads.
//
// Include after the push-constant block (fields chain_wait, chain_target, chain_signal) with
// CHAIN_BINDING defined: the split-K scratch buffer, whose uint counters CHAIN_BASE.. are the chain's
// (backend_impl.h: k_chain_base). Buffers a chained shader reads that an earlier dispatch of the
// chain wrote must be `coherent` (no barrier invalidated stale cache lines).
//
// Vulkan does not promise that the workgroups of a dispatch run while those of an earlier one still
// wait to start, which is what a passed wait needs; GPUs that launch dispatches in order (all we have
// measured) do. A wait therefore gives up after CHAIN_SPIN_LIMIT polls, raises the flag word
// CHAIN_FLAG and goes on: the host sees the flag after the submit (VulkanBackend::chain_failed), drops
// the results and repeats the step without chaining. Nothing ever hangs.
#define CHAIN_NONE 0xffffffffu
#define CHAIN_FLAG 65535u           // = VulkanBackend::Impl::k_chain_flag
#define CHAIN_SPIN_LIMIT (1u << 20)

layout(std430, binding = CHAIN_BINDING) coherent volatile buffer ChainCnt { uint chain_cnt[]; };

// Uniform control flow only (barrier).
void chain_wait() {
    if (pc.chain_wait == CHAIN_NONE) return;
    if (gl_LocalInvocationIndex == 0u) {
        // Counters only grow (by each workgroup of each use); compare modulo 2^32.
        for (uint n = 0u; int(chain_cnt[pc.chain_wait] - pc.chain_target) < 0; ++n) {
            if (n == CHAIN_SPIN_LIMIT) {
                chain_cnt[CHAIN_FLAG] = 1u;
                break;
            }
        }
    }
    memoryBarrierBuffer();
    barrier();
}

// Uniform control flow only (barrier). After this workgroup's last write.
void chain_signal() {
    if (pc.chain_signal == CHAIN_NONE) return;
    memoryBarrierBuffer();
    barrier();
    if (gl_LocalInvocationIndex == 0u) atomicAdd(chain_cnt[pc.chain_signal], 1u);
}
