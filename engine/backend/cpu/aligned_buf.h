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

}  // namespace bonsai::cpu::detail
