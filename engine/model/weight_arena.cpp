#include "model/weight_arena.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace bonsai::model_detail {

namespace {
constexpr size_t k_huge = size_t(2) << 20;
size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

std::shared_ptr<uint8_t[]> new_chunk(size_t bytes) {
    void* p = std::aligned_alloc(k_huge, bytes);  // bytes is a multiple of the alignment
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE);  // a hint, before the first touch; failure is harmless
#endif
    return std::shared_ptr<uint8_t[]>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}
}  // namespace

WeightArena::WeightArena(size_t chunk_bytes) : chunk_bytes_(round_up(chunk_bytes == 0 ? 1 : chunk_bytes, k_huge)) {}

std::shared_ptr<uint8_t[]> WeightArena::take(size_t n) {
    n = round_up(n == 0 ? 1 : n, 64);
    if (n > chunk_bytes_) {  // its own chunk; the current one stays open for smaller tensors
        const size_t bytes = round_up(n, k_huge);
        reserved_ += bytes;
        return new_chunk(bytes);
    }
    if (!chunk_ || size_ - used_ < n) {
        chunk_ = new_chunk(chunk_bytes_);
        reserved_ += chunk_bytes_;
        used_ = 0;
        size_ = chunk_bytes_;
    }
    std::shared_ptr<uint8_t[]> p(chunk_, chunk_.get() + used_);  // shares the chunk's ownership
    used_ += n;
    return p;
}

}  // namespace bonsai::model_detail
