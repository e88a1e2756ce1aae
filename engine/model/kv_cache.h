#pragma once
// The attention KV cache, stored as F16 like llama.cpp's default, one contiguous block per layer:
// k[layer][pos][kv_head · head_dim], v likewise.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bonsai::model_detail {

class KvCache {
public:
    KvCache() = default;
    // Throws bonsai::Error if the cache would not fit in memory (size computed with overflow checks).
    void allocate(int64_t n_layer, int64_t n_ctx, int64_t kv_dim);
    int64_t n_ctx() const { return n_ctx_; }
    int64_t kv_dim() const { return kv_dim_; }

    // Rounds and stores n rows of kv_dim floats for positions pos0..pos0+n-1 of `layer`.
    void store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v);
    const uint16_t* k(int64_t layer, int64_t pos) const { return k_.data() + index(layer, pos); }
    const uint16_t* v(int64_t layer, int64_t pos) const { return v_.data() + index(layer, pos); }

private:
    size_t index(int64_t layer, int64_t pos) const {
        return (static_cast<size_t>(layer) * static_cast<size_t>(n_ctx_) + static_cast<size_t>(pos)) *
               static_cast<size_t>(kv_dim_);
    }
    int64_t n_layer_ = 0, n_ctx_ = 0, kv_dim_ = 0;
    std::vector<uint16_t> k_, v_;
};

}  // namespace bonsai::model_detail
