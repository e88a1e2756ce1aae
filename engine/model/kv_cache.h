#pragma once
// The attention KV cache, stored as F16 like llama.cpp's default, head-major per layer:
// k[layer][kv_head][pos][head_dim], v likewise.
//
// Why head-major: attention reads one KV head's rows for every position. With rows of all heads
// interleaved per position (llama.cpp's layout) those rows lie kv_dim apart, a power of two: each one
// starts a new stream, two positions fill a 4 KiB page, and a 2048-token decode step read its 235 MB of
// cache at ~8 GB/s on Zen 4. Here one head's rows are contiguous: a plain sequential stream.
// The memory comes from a WeightArena (2 MiB-aligned, MADV_HUGEPAGE): a long stream takes no page walk
// per 4 KiB, and positions are only faulted in once written (a long context costs nothing until used).
#include <cstddef>
#include <cstdint>
#include <memory>

namespace bonsai::model_detail {

class KvCache {
public:
    KvCache() = default;
    KvCache(const KvCache&) = delete;  // two caches must never share their rows
    KvCache& operator=(const KvCache&) = delete;

    // Throws bonsai::Error if the cache would not fit in memory (size computed with overflow checks).
    // Replaces an earlier allocation.
    void allocate(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim);
    int64_t n_ctx() const { return n_ctx_; }
    int64_t kv_dim() const { return n_head_kv_ * head_dim_; }

    // Rounds and stores n rows of kv_dim floats (all heads of one position, as the projections produce
    // them) for positions pos0..pos0+n-1 of `layer`.
    void store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v);
    // Position 0 of KV head `head` in `layer`; position p is head_dim() halves further per position.
    const uint16_t* k(int64_t layer, int64_t head) const { return k_ + index(layer, head, 0); }
    const uint16_t* v(int64_t layer, int64_t head) const { return v_ + index(layer, head, 0); }

private:
    size_t index(int64_t layer, int64_t head, int64_t pos) const {
        return ((static_cast<size_t>(layer) * static_cast<size_t>(n_head_kv_) + static_cast<size_t>(head)) *
                    static_cast<size_t>(n_ctx_) +
                static_cast<size_t>(pos)) *
               static_cast<size_t>(head_dim_);
    }
    int64_t n_layer_ = 0, n_ctx_ = 0, n_head_kv_ = 0, head_dim_ = 0;
    std::shared_ptr<uint8_t[]> k_mem_, v_mem_;  // owners of k_ / v_
    uint16_t* k_ = nullptr;
    uint16_t* v_ = nullptr;
};

}  // namespace bonsai::model_detail
