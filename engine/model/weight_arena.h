#pragma once
// Memory for the weights the CPU backend repacks at load (weights.cpp) and for its KV cache
// (kv_cache.cpp). A decode step streams every weight once per token (and the cache of every KV head);
// with 4 KiB pages that is one TLB miss (a page walk) per 4 KiB of weights, and on the Zen 4 build machine the TQ2_0 decode ran 6-20 % faster from 2 MiB pages. Tensors are therefore
// carved out of large chunks aligned to 2 MiB and marked MADV_HUGEPAGE (Linux honours it under the
// default "madvise" transparent-huge-page mode; elsewhere it is a harmless hint and the chunks are
// ordinary memory). Packing many tensors into one chunk keeps the rounding to 2 MiB from wasting
// memory on the small k/v projections.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace bonsai::model_detail {

class WeightArena {
public:
    // Chunks of at least `chunk_bytes` (rounded up to 2 MiB); a larger request gets a chunk of its own.
    explicit WeightArena(size_t chunk_bytes = size_t(64) << 20);
    // `n` bytes, 64-byte aligned, valid while the returned pointer (or any other from the same chunk)
    // lives. Throws std::bad_alloc when memory runs out.
    std::shared_ptr<uint8_t[]> take(size_t n);
    // Bytes reserved in chunks so far (tests).
    size_t reserved() const { return reserved_; }

private:
    size_t chunk_bytes_;
    std::shared_ptr<uint8_t[]> chunk_;  // the chunk being filled
    size_t used_ = 0, size_ = 0, reserved_ = 0;
};

}  // namespace bonsai::model_detail
