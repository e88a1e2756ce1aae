#include "model/kv_cache.h"

#include <limits>
#include <new>
#include <string>

#include "backend/cpu/row_ops.h"
#include "bonsai/error.h"
#include "model/weight_arena.h"

namespace bonsai::model_detail {

void KvCache::allocate(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim) {
    if (n_layer <= 0 || n_ctx <= 0 || n_head_kv <= 0 || head_dim <= 0) throw Error("KV cache: invalid dimensions");
    const uint64_t lim = std::numeric_limits<size_t>::max() / 8;
    const uint64_t a = static_cast<uint64_t>(n_layer), b = static_cast<uint64_t>(n_ctx),
                   c = static_cast<uint64_t>(n_head_kv) * static_cast<uint64_t>(head_dim);
    if (static_cast<uint64_t>(n_head_kv) > lim / static_cast<uint64_t>(head_dim) || a > lim / b || a * b > lim / c)
        throw Error("KV cache: size overflows");
    const size_t bytes = static_cast<size_t>(a * b * c) * sizeof(uint16_t);  // per cache (k or v)
    k_ = v_ = nullptr;
    k_mem_.reset();
    v_mem_.reset();
    try {
        // Each larger than the arena's chunk gets a 2 MiB-aligned block of its own.
        WeightArena arena(size_t(2) << 20);
        k_mem_ = arena.take(bytes);
        v_mem_ = arena.take(bytes);
    } catch (const std::bad_alloc&) {
        k_mem_.reset();
        throw Error("KV cache of " + std::to_string(2 * bytes / (1024 * 1024)) +
                    " MiB does not fit in memory; use a smaller context");
    }
    k_ = reinterpret_cast<uint16_t*>(k_mem_.get());
    v_ = reinterpret_cast<uint16_t*>(v_mem_.get());
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
