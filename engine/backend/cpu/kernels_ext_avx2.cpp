// AVX2 + FMA + F16C kernels of the second set (kernels_ext.h) for CPUs without AVX-512: same packed
// activations and integer math as kernels_ext_avx512.cpp, with the 4-way int8 dot product done by
// vpmaddubsw + vpmaddwd. The 16-bit pair sums cannot saturate: codes are at most 15 (Q4_0) or |w| ≤ 128
// against |x| ≤ 127 (Q8_0, signs moved onto x), so a pair is at most 32512. Compiled alone with
// -mavx2 -mfma -mf16c; tiles of up to 4 tokens × blocks of 16 rows.
#include "backend/cpu/avx2_common.h"
#include "backend/cpu/kernels_ext.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include "backend/cpu/decode_prefetch.h"

#include <cstring>

namespace bonsai::cpu::detail {
namespace {

using namespace avx2_common;

constexpr int kMaxTile = 4;

inline uint16_t rd16(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return h;
}
inline float rd_half(const uint8_t* p) { return _cvtsh_ss(rd16(p)); }
inline float rd_f32(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
}
inline int32_t rd_i32(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline __m128i ld16(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
// Small codes: sum the 16-bit pair products of several steps (acc16 += u8·s8 pairs) and widen once.
// Callers keep |Σ| < 32768: a pair is at most 2·|code|·128.
inline __m256i dp16(__m256i acc16, __m256i u8, __m256i s8) { return _mm256_add_epi16(acc16, _mm256_maddubs_epi16(u8, s8)); }
inline __m256i widen(__m256i acc, __m256i acc16) { return _mm256_add_epi32(acc, _mm256_madd_epi16(acc16, _mm256_set1_epi16(1))); }

struct Ctx {
    const Weight* w;
    const Activations* a;
    Packed p;
    float* y;
};

template <class K>
void drive(const Ctx& c, int64_t o0, int64_t o1) {
    for_each_tile<kMaxTile>(o0, o1, c.a->n_rows(), [&](auto nt, int64_t ob, int64_t oe, int64_t t0) {
        K::template rows<decltype(nt)::value>(c, ob, oe, t0);
    });
}

// ---- Q8_0 / Q4_0: groups of 4 blocks against pack_g4 activations, two 256-bit halves (blocks 0-1, 2-3) ----

template <bool Q4, int NT>
inline void g4_tile(const uint8_t* row, int64_t nb, const uint8_t* const* xa, float* out) {
    constexpr int BS = Q4 ? 18 : 34;
    const __m256i idx[2] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3)};
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm256_setzero_ps();
    const int64_t ng = (nb + 3) / 4;
    for (int64_t g = 0; g < ng; ++g) {
        const uint8_t* wb = row + g * 4 * BS;
        alignas(32) uint8_t tmp[4 * 34] = {};
        if (4 * g + 4 > nb) {  // last partial group: zero blocks (d = 0) after the row's end
            std::memcpy(tmp, wb, static_cast<size_t>((nb - 4 * g) * BS));
            wb = tmp;
        }
        const __m128 d4 = _mm_cvtph_ps(_mm_setr_epi16(static_cast<short>(rd16(wb)), static_cast<short>(rd16(wb + BS)),
                                                      static_cast<short>(rd16(wb + 2 * BS)),
                                                      static_cast<short>(rd16(wb + 3 * BS)), 0, 0, 0, 0));
        for (int h = 0; h < 2; ++h) {
            const uint8_t* b0 = wb + 2 * h * BS;
            const __m256 dw = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d4), idx[h]);
            __m256i lo, hi;
            if constexpr (Q4) {
                const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(ld16(b0 + 2)), ld16(b0 + BS + 2), 1);
                lo = _mm256_and_si256(v, m4);
                hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            } else {
                lo = _mm256_inserti128_si256(_mm256_castsi128_si256(ld16(b0 + 2)), ld16(b0 + BS + 2), 1);
                hi = _mm256_inserti128_si256(_mm256_castsi128_si256(ld16(b0 + 18)), ld16(b0 + BS + 18), 1);
            }
            const __m256i alo = Q4 ? lo : _mm256_abs_epi8(lo), ahi = Q4 ? hi : _mm256_abs_epi8(hi);
            for (int t = 0; t < NT; ++t) {
                const uint8_t* x = xa[t] + g * kG4Bytes + 32 * h;
                __m256i acc;
                if constexpr (Q4) {
                    acc = widen(_mm256_setzero_si256(), dp16(_mm256_maddubs_epi16(lo, ld(x)), hi, ld(x + 64)));  // ≤ 2·3810
                    acc = _mm256_sub_epi32(acc, _mm256_slli_epi32(ld(x + 128), 3));  // Σ(q-8)·x = Σq·x - 8Σx
                } else {
                    acc = dp(dp(_mm256_setzero_si256(), alo, _mm256_sign_epi8(ld(x), lo)), ahi,
                             _mm256_sign_epi8(ld(x + 64), hi));
                }
                facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc),
                                          _mm256_mul_ps(dw, _mm256_loadu_ps(reinterpret_cast<const float*>(x + 192))), facc[t]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(facc[t]);
}

template <bool Q4>
struct G4 {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        const int64_t nb = c.w->n_in / 32, n_out = c.w->n_out;
        const size_t rb = static_cast<size_t>(nb) * (Q4 ? 18 : 34);
        const uint8_t* xa[NT];
        for (int t = 0; t < NT; ++t) xa[t] = c.p.row(t0 + t);
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            g4_tile<Q4, NT>(c.w->data + rb * static_cast<size_t>(o), nb, xa, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = r[t];
        }
    }
};

// ---- PQ2_0: one 128-element block (d, qs[32]) per 256-bit vector ----

template <int NT>
inline void pq2_tile(const uint8_t* row, int64_t nw, const uint8_t* const* xa, float* out) {
    const __m256i three = _mm256_set1_epi8(3);
    __m256 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nw; ++b) {
        const uint8_t* wb = row + 34 * b;
        if constexpr (NT == 1) prefetch_ahead<34>(wb);  // decode (decode_prefetch.h)
        const __m256i v = ld(wb + 2);
        const __m256 dw = _mm256_set1_ps(rd_half(wb));
        const size_t off = static_cast<size_t>(b / 2) * kPq2Bytes + static_cast<size_t>(32 * (b % 2));
        __m256i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) {  // 16-bit sums: 4 steps of pairs ≤ 2·3·128
            const __m256i ws = _mm256_and_si256(_mm256_srli_epi16(v, 2 * s), three);
            for (int t = 0; t < NT; ++t) acc[t] = dp16(acc[t], ws, ld(xa[t] + off + 64 * s));
        }
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + off;
            const __m256i sumi = _mm256_sub_epi32(widen(_mm256_setzero_si256(), acc[t]), ld(x + 256));  // Σ(q-1)·x = Σq·x - Σx
            facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi),
                                      _mm256_mul_ps(dw, _mm256_loadu_ps(reinterpret_cast<const float*>(x + 320))), facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(facc[t]);
}

struct Pq2 {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        const int64_t nw = c.w->n_in / 128, n_out = c.w->n_out;
        const size_t rb = static_cast<size_t>(nw) * 34;
        const uint8_t* xa[NT];
        for (int t = 0; t < NT; ++t) xa[t] = c.p.row(t0 + t);
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            pq2_tile<NT>(c.w->data + rb * static_cast<size_t>(o), nw, xa, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = r[t];
        }
    }
};

// ---- TQ1_0 (see kernels_ext_avx512.cpp for the trit arithmetic): halves qs[0..31] and qs[32..47]+qh ----

template <int NT>
inline void tq1_tile(const uint8_t* row, int64_t nb, const uint8_t* const* xa, float* out) {
    const __m256i k80 = _mm256_set1_epi8(static_cast<char>(0x80)), lo = _mm256_set1_epi8(-43), hi = _mm256_set1_epi8(42);
    const __m256i dwords5 = _mm256_setr_epi32(-1, -1, -1, -1, -1, 0, 0, 0);  // bytes 32..51 of the block
    __m256 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wb = row + 54 * b;
        __m256i p0 = _mm256_xor_si256(ld(wb), k80);
        __m256i p1 = _mm256_xor_si256(_mm256_maskload_epi32(reinterpret_cast<const int*>(wb + 32), dwords5), k80);
        __m256i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_si256();
#pragma GCC unroll 5
        for (int n = 0; n < 5; ++n) {
            if (n > 0) {
                p0 = _mm256_add_epi8(p0, _mm256_add_epi8(p0, p0));
                p1 = _mm256_add_epi8(p1, _mm256_add_epi8(p1, p1));
            }
            // trit = [p' > -43] + [p' > 42]; compares give -1, so subtract them from 0.
            const __m256i t0 = _mm256_sub_epi8(_mm256_sub_epi8(_mm256_setzero_si256(), _mm256_cmpgt_epi8(p0, lo)),
                                               _mm256_cmpgt_epi8(p0, hi));
            const __m256i t1 = _mm256_sub_epi8(_mm256_sub_epi8(_mm256_setzero_si256(), _mm256_cmpgt_epi8(p1, lo)),
                                               _mm256_cmpgt_epi8(p1, hi));
            for (int t = 0; t < NT; ++t) {  // 16-bit sums: 10 steps of pairs ≤ 2·2·128
                const uint8_t* x = xa[t] + 320 * b + 64 * n;
                acc[t] = dp16(dp16(acc[t], t0, ld(x)), t1, ld(x + 32));
            }
        }
        const float dw = rd_half(wb + 52);
        for (int t = 0; t < NT; ++t) {
            const uint8_t* tail = xa[t] + 320 * nb;
            const __m256i s = _mm256_sub_epi32(widen(_mm256_setzero_si256(), acc[t]), _mm256_setr_epi32(rd_i32(tail + 4 * nb + 4 * b), 0, 0, 0, 0, 0, 0, 0));
            facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(rd_f32(tail + 4 * b) * dw), facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(facc[t]);
}

struct Tq1 {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        const int64_t nb = c.w->n_in / 256, n_out = c.w->n_out;
        const uint8_t* xa[NT];
        for (int t = 0; t < NT; ++t) xa[t] = c.p.row(t0 + t);
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            tq1_tile<NT>(c.w->data + static_cast<size_t>(nb) * 54 * static_cast<size_t>(o), nb, xa, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = r[t];
        }
    }
};

// ---- PTQ1_0 (see kernels_ext_avx512.cpp and pack_ptq1): one 28-byte block per 256-bit vector ----

template <int NT>
inline void ptq1_tile(const uint8_t* row, int64_t nw, const uint8_t* const* xa, float* out) {
    const __m256i k80 = _mm256_set1_epi8(static_cast<char>(0x80)), lo = _mm256_set1_epi8(-43), hi = _mm256_set1_epi8(42);
    // Bytes 0..27: the 26 code bytes and the scale; the scale's "trits" meet zero activations.
    const __m256i dwords7 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);
    __m256 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nw; ++b) {
        const uint8_t* wb = row + 28 * b;
        __m256i pv = _mm256_xor_si256(_mm256_maskload_epi32(reinterpret_cast<const int*>(wb), dwords7), k80);
        const __m256 dw = _mm256_set1_ps(rd_half(wb + 26));
        const size_t off = static_cast<size_t>(b / 2) * kPtq1Bytes + static_cast<size_t>(32 * (b % 2));
        __m256i acc[NT];
#pragma GCC unroll 5
        for (int n = 0; n < 5; ++n) {
            if (n == 0 || n == 2 || n == 4)
                for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_si256();
            if (n > 0) pv = _mm256_add_epi8(pv, _mm256_add_epi8(pv, pv));
            const __m256i tr = _mm256_sub_epi8(_mm256_sub_epi8(_mm256_setzero_si256(), _mm256_cmpgt_epi8(pv, lo)),
                                               _mm256_cmpgt_epi8(pv, hi));
            for (int t = 0; t < NT; ++t) acc[t] = dp16(acc[t], tr, ld(xa[t] + off + 64 * n));  // ≤ 2 steps
            if (n == 1 || n == 3 || n == 4) {
                const int g = n / 2;
                for (int t = 0; t < NT; ++t) {
                    const uint8_t* x = xa[t] + off;
                    const __m256i sumi = _mm256_sub_epi32(widen(_mm256_setzero_si256(), acc[t]), ld(x + 320 + 64 * g));
                    facc[t] = _mm256_fmadd_ps(
                        _mm256_cvtepi32_ps(sumi),
                        _mm256_mul_ps(dw, _mm256_loadu_ps(reinterpret_cast<const float*>(x + 512 + 64 * g))), facc[t]);
                }
            }
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(facc[t]);
}

struct Ptq1 {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        const int64_t nw = c.w->n_in / 128, n_out = c.w->n_out;
        const size_t rb = static_cast<size_t>(nw) * 28;
        const uint8_t* xa[NT];
        for (int t = 0; t < NT; ++t) xa[t] = c.p.row(t0 + t);
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            ptq1_tile<NT>(c.w->data + rb * static_cast<size_t>(o), nw, xa, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = r[t];
        }
    }
};

// ---- I2_S: one 128-element block (32 bytes) per vector, one int32 sum per row ----

template <int NT>
inline void i2s_tile(const uint8_t* row, int64_t nb, const uint8_t* const* xq, int32_t* out) {
    const __m256i three = _mm256_set1_epi8(3);
    __m256i acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_si256();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i v = ld(row + 32 * b);
        const size_t off = static_cast<size_t>(b / 2) * kI2sBytes + static_cast<size_t>(32 * (b % 2));
        __m256i a16[NT];  // 16-bit sums of one block: 4 steps of pairs ≤ 2·3·128
        for (int t = 0; t < NT; ++t) a16[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
            const __m256i wg = _mm256_and_si256(_mm256_srli_epi16(v, 6 - 2 * g), three);
            for (int t = 0; t < NT; ++t) a16[t] = dp16(a16[t], wg, ld(xq[t] + off + 64 * g));
        }
        for (int t = 0; t < NT; ++t) acc[t] = widen(acc[t], a16[t]);
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum_i32(acc[t]);
}

struct I2s {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        const int64_t n = c.w->n_in, n_out = c.w->n_out;
        const float wscale = rd_f32(c.w->data + static_cast<size_t>(n * n_out / 4));
        const uint8_t* xq[NT];
        float s[NT];
        int32_t sum[NT];
        for (int t = 0; t < NT; ++t) {
            const uint8_t* r = c.p.row(t0 + t);
            s[t] = rd_f32(r);
            sum[t] = rd_i32(r + 4);
            xq[t] = r + 64;
        }
        for (int64_t o = ob; o < oe; ++o) {
            int32_t r[NT];
            i2s_tile<NT>(c.w->data + static_cast<size_t>(o * n / 4), n / 128, xq, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = static_cast<float>(r[t] - sum[t]) / s[t] * wscale;
        }
    }
};

// ---- F16 / BF16 weights against float activations ----

template <bool BF>
inline __m256 cvt16(__m128i h) {
    if constexpr (BF) {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    } else {
        return _mm256_cvtph_ps(h);
    }
}
template <bool BF>
inline float cvt1(const uint8_t* p) {
    const uint16_t h = rd16(p);
    if constexpr (BF) {
        const uint32_t u = static_cast<uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    } else {
        return _cvtsh_ss(h);
    }
}

template <bool BF, int NT>
inline void f16_tile(const uint8_t* row, int64_t n, const float* const* x, float* out) {
    __m256 f0[NT], f1[NT];
    for (int t = 0; t < NT; ++t) f0[t] = f1[t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 w0 = cvt16<BF>(ld16(row + 2 * i)), w1 = cvt16<BF>(ld16(row + 2 * i + 16));
        for (int t = 0; t < NT; ++t) {
            f0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), f0[t]);
            f1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[t] + i + 8), f1[t]);
        }
    }
    for (int t = 0; t < NT; ++t) {
        float s = hsum(_mm256_add_ps(f0[t], f1[t]));
        for (int64_t j = i; j < n; ++j) s += cvt1<BF>(row + 2 * j) * x[t][j];
        out[t] = s;
    }
}

template <bool BF>
struct F16 {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        const int64_t n = c.w->n_in, n_out = c.w->n_out;
        const float* x[NT];
        for (int t = 0; t < NT; ++t) x[t] = reinterpret_cast<const float*>(c.a->row(t0 + t));
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            f16_tile<BF, NT>(c.w->data + static_cast<size_t>(2 * n) * static_cast<size_t>(o), n, x, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = r[t];
        }
    }
};

void gemm_q8_0(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<G4<false>>(Ctx{&w, &a, pack_g4(a), y}, o0, o1);
}
void gemm_q4_0(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<G4<true>>(Ctx{&w, &a, pack_g4(a), y}, o0, o1);
}
void gemm_pq2_0(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<Pq2>(Ctx{&w, &a, pack_pq2(a), y}, o0, o1);
}
void gemm_tq1_0(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<Tq1>(Ctx{&w, &a, pack_tq1(a), y}, o0, o1);
}
void gemm_i2_s(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<I2s>(Ctx{&w, &a, pack_i2s(a), y}, o0, o1);
}
void gemm_ptq1_0(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<Ptq1>(Ctx{&w, &a, pack_ptq1(a), y}, o0, o1);
}
void gemm_f16(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<F16<false>>(Ctx{&w, &a, Packed{}, y}, o0, o1);
}
void gemm_bf16(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    drive<F16<true>>(Ctx{&w, &a, Packed{}, y}, o0, o1);
}

}  // namespace

ExtKernelTable ext_avx2_kernels() {
    ExtKernelTable k;
    k.tq1_0 = gemm_tq1_0;
    k.q8_0 = gemm_q8_0;
    k.q4_0 = gemm_q4_0;
    k.pq2_0 = gemm_pq2_0;
    k.i2_s = gemm_i2_s;
    k.f16 = gemm_f16;
    k.bf16 = gemm_bf16;
    k.ptq1_0 = gemm_ptq1_0;
    return k;
}

}  // namespace bonsai::cpu::detail
#else
namespace bonsai::cpu::detail {
ExtKernelTable ext_avx2_kernels() { return ExtKernelTable{}; }  // not an x86 build
}  // namespace bonsai::cpu::detail
#endif
