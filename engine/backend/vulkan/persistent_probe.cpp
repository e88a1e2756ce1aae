// Probes of the persistent-kernel design (docs/vulkan.md, session 10); the forward pass uses neither.
// measure_grid_barrier: what a grid-wide barrier costs inside one dispatch (shaders/grid_barrier.comp),
// against the ~4-5 us that a dependent dispatch + pipeline barrier costs on an H100. measure_matvec_chain:
// a chain of dependent matvecs as phases of one dispatch (shaders/matvec_chain.comp) against the same
// chain of matvec() dispatches.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/vulkan/backend_impl.h"
#include "bonsai/error.h"

namespace bonsai {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0, r = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        r += double(b[i]) * b[i];
    }
    return r > 0 ? std::sqrt(d / r) : std::sqrt(d);
}
// One recording of `record` (a probe dispatch) after zeroing the 16-byte counter buffer: its wall time,
// submit and wait included; the counters are left in c.
template <class Record>
double timed_dispatch(VulkanBackend& vk, VulkanBuffer& counters, uint32_t (&c)[4], const Record& record) {
    const uint32_t zero[4] = {};
    vk.upload(counters, 0, zero, sizeof zero);
    const auto t0 = std::chrono::steady_clock::now();
    vk.begin();
    record();
    vk.submit_and_wait();
    const double s = seconds_since(t0);
    vk.download(counters, 0, c, sizeof c);
    return s;
}
// Seconds per unit of work from runs of n and of n / 4 units (or n alone when that is 0): the difference
// leaves out the submit and the wait. Best of 3.
template <class Run>
double per_unit(uint32_t n, const Run& run) {
    const uint32_t short_n = n / 4;
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep)
        best = std::min(best, short_n > 0 ? (run(n) - run(short_n)) / double(n - short_n) : run(n) / n);
    return best;
}
}  // namespace

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
        pc.rounds = r;
        uint32_t c[4] = {};
        const double s = timed_dispatch(*this, counters, c, [&] {
            impl_->dispatch("grid_barrier", {&counters, &slots}, &pc, sizeof pc, groups);
        });
        out.mismatches += c[1];
        out.timeouts += c[2];
        return s;
    };
    run(1);  // pipeline creation, first touch
    out.mismatches = out.timeouts = 0;
    const double best = per_unit(rounds, run);
    out.us_per_round = std::max(0.0, best * 1e6);
    return out;
}

VulkanMatvecChainProbe VulkanBackend::measure_matvec_chain(uint32_t phases, uint32_t groups, uint32_t flags, uint32_t spin_limit) {
    if (phases < 2 || groups == 0 || spin_limit == 0) throw Error("Vulkan matvec chain: need 2+ phases, 1+ workgroups");
    if (!impl_->info.int_dot) throw Error("Vulkan matvec chain: the device has no integer dot products");
    constexpr uint32_t n = 4096;               // matvec_chain.comp's XN
    constexpr uint32_t row_bytes = n / 128 * 18;
    const uint64_t mat_bytes = uint64_t(n) * row_bytes;
    if (mat_bytes * phases + 16 > impl_->limits.maxStorageBufferRange) throw Error("Vulkan matvec chain: too many phases");
    // Random Q1_0 weights with d = 1/64 (fp16 0x2400): each phase keeps the vector's scale.
    std::mt19937 rng(5);
    std::vector<uint8_t> w(mat_bytes * phases + 16);
    for (auto& b : w) b = static_cast<uint8_t>(rng());
    for (uint64_t blk = 0; blk < mat_bytes * phases / 18; ++blk) {
        w[18 * blk] = 0x00;
        w[18 * blk + 1] = 0x24;
    }
    std::vector<float> x0(n);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (auto& v : x0) v = u(rng);
    VulkanBuffer wb = create_buffer(w.size(), VulkanMemory::DeviceLocal);
    upload(wb, 0, w.data(), w.size());
    const uint64_t vec_bytes = uint64_t(phases + 1) * n * 4;
    VulkanBuffer vp = create_buffer(vec_bytes, VulkanMemory::DeviceLocal);
    VulkanBuffer vd = create_buffer(vec_bytes, VulkanMemory::DeviceLocal);
    VulkanBuffer counters = create_buffer(16, VulkanMemory::HostVisible);
    VulkanBuffer qx = create_buffer(uint64_t(phases) * (n / 4 + 2 * (n / 32)) * 4, VulkanMemory::DeviceLocal);
    upload(vp, 0, x0.data(), n * 4);
    upload(vd, 0, x0.data(), n * 4);

    VulkanMatvecChainProbe out;
    struct {
        uint32_t phases, first, count, mat_bytes, spin_limit, flags;
    } pc{0, 0, 0, static_cast<uint32_t>(mat_bytes), spin_limit, flags & 3u};
    // flags bit 2: the same shader, one dispatch per phase (no grid barrier).
    const bool one_per_dispatch = (flags & 4u) != 0;
    const auto persistent = [&](uint32_t ph) {
        pc.phases = ph;
        uint32_t c[4] = {};
        const double s = timed_dispatch(*this, counters, c, [&] {
            if (!one_per_dispatch) {
                pc.first = 0;
                pc.count = ph;
                impl_->dispatch("matvec_chain", {&wb, &vp, &counters, &qx}, &pc, sizeof pc, groups);
                return;
            }
            for (uint32_t p = 0; p < ph; ++p) {
                pc.first = p;
                pc.count = 1;
                impl_->dispatch("matvec_chain", {&wb, &vp, &counters, &qx}, &pc, sizeof pc, groups);
            }
        });
        out.timeouts += c[1];
        return s;
    };
    const auto dispatched = [&](uint32_t ph) {
        uint32_t c[4] = {};
        return timed_dispatch(*this, counters, c, [&] {
            for (uint32_t p = 0; p < ph; ++p)
                matvec(TensorType::Q1_0, VulkanRef(wb, p * mat_bytes), n, n, VulkanRef(vd, uint64_t(p) * n * 4),
                       VulkanRef(vd, uint64_t(p + 1) * n * 4));
        });
    };
    persistent(phases);  // pipeline creation, first touch
    dispatched(phases);
    out.timeouts = 0;
    out.persistent_us = std::max(0.0, per_unit(phases, persistent) * 1e6);
    out.dispatch_us = std::max(0.0, per_unit(phases, dispatched) * 1e6);
    // Both buffers now hold the long chain's results (the short runs rewrote only its first phases).
    persistent(phases);
    dispatched(phases);
    std::vector<float> a(n), b(n);
    download(vp, uint64_t(n) * 4, a.data(), n * 4);
    download(vd, uint64_t(n) * 4, b.data(), n * 4);
    out.rel_diff_first = rel_l2(a, b);
    download(vp, uint64_t(phases) * n * 4, a.data(), n * 4);
    download(vd, uint64_t(phases) * n * 4, b.data(), n * 4);
    out.rel_diff_last = rel_l2(a, b);
    return out;
}

}  // namespace bonsai
