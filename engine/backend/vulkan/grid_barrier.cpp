// VulkanBackend::measure_grid_barrier: what a grid-wide barrier costs inside one dispatch
// (shaders/grid_barrier.comp), against the ~5 us that a dependent dispatch + pipeline barrier costs on an
// H100 (docs/vulkan.md). A diagnostic for the persistent-kernel design; the forward pass does not use it.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "backend/vulkan/backend_impl.h"
#include "bonsai/error.h"

namespace bonsai {

VulkanGridBarrierProbe VulkanBackend::measure_grid_barrier(uint32_t groups, uint32_t rounds, uint32_t spin_limit) {
    if (groups == 0 || rounds == 0 || spin_limit == 0) throw Error("Vulkan grid barrier: groups, rounds and spin limit must be positive");
    if (groups > impl_->limits.maxComputeWorkGroupCount[0]) throw Error("Vulkan grid barrier: too many workgroups");
    constexpr uint32_t kWg = 256;  // grid_barrier.comp's workgroup size
    VulkanBuffer counters = create_buffer(16, VulkanMemory::HostVisible);
    VulkanBuffer slots = create_buffer(uint64_t(2) * groups * kWg * 4, VulkanMemory::DeviceLocal);
    struct {
        uint32_t rounds, spin_limit;
    } pc{};
    pc.spin_limit = spin_limit;
    VulkanGridBarrierProbe out;
    // One dispatch of `r` rounds: its wall time and its counters.
    const auto run = [&](uint32_t r) {
        const uint32_t zero[4] = {};
        upload(counters, 0, zero, sizeof zero);
        pc.rounds = r;
        const auto t0 = std::chrono::steady_clock::now();
        begin();
        impl_->dispatch("grid_barrier", {&counters, &slots}, &pc, sizeof pc, groups);
        submit_and_wait();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        uint32_t c[4] = {};
        download(counters, 0, c, sizeof c);
        out.mismatches += c[1];
        out.timeouts += c[2];
        return s;
    };
    run(1);  // pipeline creation, first touch
    out.mismatches = out.timeouts = 0;
    // The difference between a long and a short dispatch leaves out the submit and the wait; best of 3.
    const uint32_t short_rounds = rounds / 10;
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
        const double s = short_rounds > 0 ? (run(rounds) - run(short_rounds)) / double(rounds - short_rounds) : run(rounds) / rounds;
        best = std::min(best, s);
    }
    out.us_per_round = std::max(0.0, best * 1e6);
    return out;
}

}  // namespace bonsai
