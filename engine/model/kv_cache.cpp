#include "model/kv_cache.h"

#include <limits>
#include <new>
#include <string>

#include "backend/cpu/row_ops.h"
#include "bonsai/error.h"
#include "bonsai/tensor_type.h"

namespace bonsai::model_detail {

void KvCache::allocate(int64_t n_layer, int64_t n_ctx, int64_t kv_dim) {
    if (n_layer <= 0 || n_ctx <= 0 || kv_dim <= 0) throw Error("KV cache: invalid dimensions");
    const uint64_t lim = std::numeric_limits<uint64_t>::max() / 4;
    const uint64_t a = static_cast<uint64_t>(n_layer), b = static_cast<uint64_t>(n_ctx), c = static_cast<uint64_t>(kv_dim);
    if (a > lim / b || a * b > lim / c) throw Error("KV cache: size overflows");
    const uint64_t elems = a * b * c;
    try {
        k_.assign(static_cast<size_t>(elems), 0);
        v_.assign(static_cast<size_t>(elems), 0);
    } catch (const std::bad_alloc&) {
        throw Error("KV cache of " + std::to_string(elems * 4 / (1024 * 1024)) +
                    " MiB does not fit in memory; use a smaller context");
    }
    n_layer_ = n_layer;
    n_ctx_ = n_ctx;
    kv_dim_ = kv_dim;
}

void KvCache::store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v) {
    if (layer < 0 || layer >= n_layer_ || pos0 < 0 || n < 0 || pos0 + n > n_ctx_) throw Error("KV cache: store out of range");
    uint16_t* kd = k_.data() + index(layer, pos0);
    uint16_t* vd = v_.data() + index(layer, pos0);
    const int64_t total = n * kv_dim_;
    cpu::f32_to_f16_row(k, kd, total);
    cpu::f32_to_f16_row(v, vd, total);
}

}  // namespace bonsai::model_detail
