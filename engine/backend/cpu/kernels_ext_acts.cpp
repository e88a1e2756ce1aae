// Activation re-layouts for the second SIMD kernel set (layouts documented in kernels_ext.h). Plain C++,
// compiled for baseline x86-64 like the rest of the engine. The byte layouts read here are those of
// matmul.cpp: Q8_0 block = f32 d + 32 int8 (36 bytes); Q8_K block = f32 d + 256 int8 + 16 int16 (292);
// I8_ROW row = f32 s, int32 Σa, then n int8.
#include <cstring>
#include <vector>

#include "backend/cpu/kernels_ext.h"

namespace bonsai::cpu::detail {
namespace {

// One cache slot per layout and thread: every pool thread packs its own copy, once per prepare() of
// the activations (Activations::generation), however many grains of however many matmuls it runs on them.
enum Kind { kG4, kPq2, kI2s, kTq1, kPtq1, kKinds };
struct Slot {
    uint64_t generation = 0;
    size_t stride = 0;
    std::vector<uint8_t> buf;
};

// Returns the slot's buffer, zeroed, when it must be (re)packed; nullptr when it already holds `a`.
uint8_t* slot_for(Kind k, const Activations& a, size_t stride, Packed& p) {
    thread_local Slot slots[kKinds];
    Slot& s = slots[k];
    const size_t bytes = stride * static_cast<size_t>(a.n_rows());
    p.stride = stride;
    if (a.generation() != 0 && s.generation == a.generation() && s.stride == stride && s.buf.size() >= bytes) {
        p.data = s.buf.data();
        return nullptr;
    }
    if (s.buf.size() < bytes) s.buf.resize(bytes);
    if (bytes) std::memset(s.buf.data(), 0, bytes);  // padding bytes must be zero
    s.generation = a.generation();
    s.stride = stride;
    p.data = s.buf.data();
    return s.buf.data();
}

void put_f32(uint8_t* p, float v) { std::memcpy(p, &v, 4); }
void put_i32(uint8_t* p, int32_t v) { std::memcpy(p, &v, 4); }
float get_f32(const uint8_t* p) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
}
int32_t sum_i8(const int8_t* q, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; ++i) s += q[i];
    return s;
}

}  // namespace

Packed pack_g4(const Activations& a) {
    const int64_t nb = a.n_in() / 32, ng = (nb + 3) / 4;
    Packed p;
    uint8_t* out = slot_for(kG4, a, static_cast<size_t>(ng) * kG4Bytes, p);
    if (!out) return p;
    for (int64_t t = 0; t < a.n_rows(); ++t) {
        const uint8_t* src = a.row(t);
        uint8_t* dst = out + static_cast<size_t>(t) * p.stride;
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = src + 36 * b;
            const int8_t* q = reinterpret_cast<const int8_t*>(blk + 4);
            uint8_t* g = dst + kG4Bytes * static_cast<size_t>(b / 4);
            const int k = static_cast<int>(b % 4);
            std::memcpy(g + 16 * k, q, 16);
            std::memcpy(g + 64 + 16 * k, q + 16, 16);
            put_i32(g + 128 + 16 * k, sum_i8(q, 32));
            const float d = get_f32(blk);
            for (int l = 0; l < 4; ++l) put_f32(g + 192 + 16 * k + 4 * l, d);
        }
    }
    return p;
}

Packed pack_pq2(const Activations& a) {
    const int64_t n = a.n_in(), nw = n / 128, np = (nw + 1) / 2;
    Packed p;
    uint8_t* out = slot_for(kPq2, a, static_cast<size_t>(np) * kPq2Bytes, p);
    if (!out) return p;
    for (int64_t t = 0; t < a.n_rows(); ++t) {
        const uint8_t* src = a.row(t);
        uint8_t* dst = out + static_cast<size_t>(t) * p.stride;
        for (int64_t b = 0; b < n / 32; ++b) {  // activation block b: elements 32b..32b+31
            const uint8_t* blk = src + 36 * b;
            const int8_t* q = reinterpret_cast<const int8_t*>(blk + 4);
            uint8_t* pr = dst + kPq2Bytes * static_cast<size_t>(b / 8);
            const int j = static_cast<int>(b % 8);  // activation block within the pair
            for (int e = 0; e < 32; ++e) {
                const int pe = 32 * j + e;  // element within the pair
                const int h = pe / 128, k = (pe % 128) / 4, s = pe % 4;
                pr[64 * s + 32 * h + k] = static_cast<uint8_t>(q[e]);
            }
            put_i32(pr + 256 + 8 * j, sum_i8(q, 32));
            const float d = get_f32(blk);
            put_f32(pr + 320 + 8 * j, d);
            put_f32(pr + 320 + 8 * j + 4, d);
        }
    }
    return p;
}

Packed pack_i2s(const Activations& a) {
    const int64_t n = a.n_in(), nb = n / 128, np = (nb + 1) / 2;
    Packed p;
    uint8_t* out = slot_for(kI2s, a, 64 + static_cast<size_t>(np) * kI2sBytes, p);
    if (!out) return p;
    for (int64_t t = 0; t < a.n_rows(); ++t) {
        const uint8_t* src = a.row(t);
        uint8_t* dst = out + static_cast<size_t>(t) * p.stride;
        std::memcpy(dst, src, 8);  // s, Σa
        const uint8_t* q = src + 8;
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* pr = dst + 64 + kI2sBytes * static_cast<size_t>(b / 2) + 32 * (b % 2);
            for (int g = 0; g < 4; ++g) std::memcpy(pr + 64 * g, q + 128 * b + 32 * g, 32);
        }
    }
    return p;
}

Packed pack_tq1(const Activations& a) {
    const int64_t nb = a.n_in() / 256;
    Packed p;
    uint8_t* out = slot_for(kTq1, a, (static_cast<size_t>(nb) * 328 + 63) & ~size_t(63), p);
    if (!out) return p;
    for (int64_t t = 0; t < a.n_rows(); ++t) {
        const uint8_t* src = a.row(t);
        uint8_t* dst = out + static_cast<size_t>(t) * p.stride;
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = src + 292 * b;
            const int8_t* q = reinterpret_cast<const int8_t*>(blk + 4);
            uint8_t* v = dst + 320 * b;
            for (int n = 0; n < 5; ++n) {
                uint8_t* vn = v + 64 * n;
                std::memcpy(vn, q + 32 * n, 32);
                std::memcpy(vn + 32, q + 160 + 16 * n, 16);
                if (n < 4) std::memcpy(vn + 48, q + 240 + 4 * n, 4);
            }
            std::memcpy(dst + 320 * nb + 4 * b, blk, 4);
            put_i32(dst + 324 * nb + 4 * b, sum_i8(q, 256));
        }
    }
    return p;
}

Packed pack_ptq1(const Activations& a) {
    const int64_t nw = a.n_in() / 128, np = (nw + 1) / 2;
    Packed p;
    uint8_t* out = slot_for(kPtq1, a, static_cast<size_t>(np) * kPtq1Bytes, p);
    if (!out) return p;
    for (int64_t t = 0; t < a.n_rows(); ++t) {
        const uint8_t* src = a.row(t);
        uint8_t* dst = out + static_cast<size_t>(t) * p.stride;
        for (int64_t w = 0; w < nw; ++w) {
            uint8_t* pr = dst + kPtq1Bytes * static_cast<size_t>(w / 2);
            const int h = static_cast<int>(w % 2);
            bool corrected[4] = {false, false, false, false};
            for (int n = 0; n < 5; ++n)
                for (int m = 0; m < 26; ++m) {
                    const int e = m < 16 ? 16 * n + m : m < 24 ? 80 + 8 * n + (m - 16) : n < 4 ? 120 + 2 * n + (m - 24) : -1;
                    if (e < 0) continue;
                    const int j = e / 32;  // activation block within the weight block
                    const uint8_t* blk = src + 36 * (4 * w + j);
                    const int8_t* q = reinterpret_cast<const int8_t*>(blk + 4);
                    const int byte = 32 * h + m, lane = byte / 4, g = n < 2 ? 0 : n < 4 ? 1 : 2;
                    pr[64 * n + byte] = static_cast<uint8_t>(q[e % 32]);
                    std::memcpy(pr + 512 + 64 * g + 4 * lane, blk, 4);
                    if (!corrected[j]) {
                        corrected[j] = true;
                        put_i32(pr + 320 + 64 * g + 4 * lane, sum_i8(q, 32));
                    }
                }
        }
    }
    return p;
}

}  // namespace bonsai::cpu::detail
