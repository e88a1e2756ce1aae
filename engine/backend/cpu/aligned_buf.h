#pragma once
// Per-thread kernel scratch: 64-byte aligned storage that only grows, so that a decode step allocates
// nothing once it has run, and 64-byte vector loads and stores never straddle two cache lines.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bonsai::cpu::detail {

struct AlignedBuf {
    std::vector<uint8_t> v;
    // At least n bytes starting on a 64-byte boundary (valid until the next larger request).
    uint8_t* get(size_t n) {
        if (v.size() < n + 64) v.resize(n + 64);
        return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t(63));
    }
};

// Per-thread data a kernel derives from one set of activations (the table kernels' lookup tables), kept
// while the activations (Activations::generation; 0 = never cached) and `key` (which part of them, e.g.
// the first token of a chunk) stay the same: the row grains of a matmul and the matmuls sharing an
// input then build it once.
struct DerivedBuf {
    AlignedBuf buf;
    uint64_t generation = 0;
    int64_t key = -1;
    // True when the contents must be built for (generation, key); they count as built from then on.
    bool stale(uint64_t gen, int64_t k) {
        const bool s = gen == 0 || gen != generation || k != key;
        generation = gen;
        key = k;
        return s;
    }
};

}  // namespace bonsai::cpu::detail
