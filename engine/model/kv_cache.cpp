#include "model/kv_cache.h"

#include <sys/mman.h>

#include <cstring>
#include <limits>
#include <string>

#include "backend/cpu/row_ops.h"
#include "bonsai/error.h"
#include "bonsai/tensor_type.h"

namespace bonsai::model_detail {

KvCache::~KvCache() { release(); }

void KvCache::release() {
    if (map_) munmap(map_, map_bytes_);
    map_ = nullptr;
    k_ = v_ = nullptr;
    map_bytes_ = 0;
}

void KvCache::allocate(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim) {
    if (n_layer <= 0 || n_ctx <= 0 || n_head_kv <= 0 || head_dim <= 0) throw Error("KV cache: invalid dimensions");
    const uint64_t lim = std::numeric_limits<uint64_t>::max() / 8;
    const uint64_t a = static_cast<uint64_t>(n_layer), b = static_cast<uint64_t>(n_ctx),
                   c = static_cast<uint64_t>(n_head_kv) * static_cast<uint64_t>(head_dim);
    if (static_cast<uint64_t>(n_head_kv) > lim / static_cast<uint64_t>(head_dim) || a > lim / b || a * b > lim / c)
        throw Error("KV cache: size overflows");
    const uint64_t elems = a * b * c;  // per cache (k or v)
    // k then v, each rounded up to 2 MiB so that v starts on a huge-page boundary.
    constexpr uint64_t kHuge = uint64_t(2) << 20;
    const uint64_t half = (elems * 2 + kHuge - 1) / kHuge * kHuge;
    if (half > lim / 2 || 2 * half > std::numeric_limits<size_t>::max()) throw Error("KV cache: size overflows");
    release();
    void* m = mmap(nullptr, static_cast<size_t>(2 * half), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        throw Error("KV cache of " + std::to_string(elems * 4 / (1024 * 1024)) +
                    " MiB does not fit in memory; use a smaller context");
#ifdef MADV_HUGEPAGE
    (void)madvise(m, static_cast<size_t>(2 * half), MADV_HUGEPAGE);  // a hint; failure is harmless
#endif
    map_ = m;
    map_bytes_ = static_cast<size_t>(2 * half);
    k_ = static_cast<uint16_t*>(m);
    v_ = reinterpret_cast<uint16_t*>(static_cast<uint8_t*>(m) + half);
    n_layer_ = n_layer;
    n_ctx_ = n_ctx;
    n_head_kv_ = n_head_kv;
    head_dim_ = head_dim;
}

void KvCache::store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v) {
    if (layer < 0 || layer >= n_layer_ || pos0 < 0 || n < 0 || pos0 + n > n_ctx_) throw Error("KV cache: store out of range");
    const int64_t kd = kv_dim();
    for (int64_t h = 0; h < n_head_kv_; ++h) {
        uint16_t* kh = k_ + index(layer, h, pos0);
        uint16_t* vh = v_ + index(layer, h, pos0);
        for (int64_t t = 0; t < n; ++t) {
            cpu::f32_to_f16_row(k + t * kd + h * head_dim_, kh + t * head_dim_, head_dim_);
            cpu::f32_to_f16_row(v + t * kd + h * head_dim_, vh + t * head_dim_, head_dim_);
        }
    }
}

}  // namespace bonsai::model_detail
