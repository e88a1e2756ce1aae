// AVX-512 (F, BW, VL, VNNI) kernels of the second set (kernels_ext.h): TQ1_0, Q8_0, Q4_0, PQ2_0, PTQ1_0,
// I2_S, F16, BF16. This file alone is compiled with -mavx512* flags (CMakeLists.txt); nothing here may run
// before cpu_features confirmed the ISA. Integer block sums are exact (vpdpbusd of unsigned codes with
// signed int8 activations, minus the block activation sums for offset codes), so results equal the
// scalar kernels up to float summation order. Tiles of up to 8 tokens × blocks of 16 rows keep the
// rows and the packed activations of a tile in L1/L2; decode (1 token) streams each row once.
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/kernels_ext.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include "backend/cpu/decode_prefetch.h"
#include "backend/cpu/tq1_tile_avx512.h"

#include <cstring>

namespace bonsai::cpu::detail {
namespace {

constexpr int kMaxTile = 8;

inline float rd_half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}
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
inline __m512i ld(const uint8_t* p) { return _mm512_loadu_si512(p); }

// What one row-block × token-tile step needs.
struct Ctx {
    const Weight* w;
    const Activations* a;
    Packed p;
    float* y;
};

// Blocks of 16 rows × tiles of up to kMaxTile tokens; K::rows<NT>(ctx, ob, oe, t0) does one tile.
template <class K>
void drive(const Ctx& c, int64_t o0, int64_t o1) {
    for_each_tile<kMaxTile>(o0, o1, c.a->n_rows(), [&](auto nt, int64_t ob, int64_t oe, int64_t t0) {
        K::template rows<decltype(nt)::value>(c, ob, oe, t0);
    });
}

// ---- Q8_0 / Q4_0: groups of 4 blocks against pack_g4 activations ----

// 16-bit word indices (vpermw / vpermt2w) that gather the fp16 scales of 4 blocks into 16 lanes
// (lane j = d of block j/4): Q4_0 blocks are 9 words (d first), Q8_0 blocks 17 words.
struct G4Idx {
    __m512i q4_d, q8_d;
    G4Idx() {
        alignas(64) uint16_t a[32], b[32];
        for (int j = 0; j < 32; ++j) {
            a[j] = static_cast<uint16_t>(9 * ((j / 4) % 4));
            b[j] = static_cast<uint16_t>(17 * ((j / 4) % 4));
        }
        q4_d = _mm512_load_si512(a);
        q8_d = _mm512_load_si512(b);
    }
};

// Unpacks 4 blocks at wb into the first / second halves (as pack_g4 lays out the activations) and the
// 16 per-lane weight scales. Q4_0: unsigned nibbles 0..15. Q8_0: the signed int8 values.
template <bool Q4>
inline void load_g4(const G4Idx& ix, const uint8_t* wb, __m512i& lo, __m512i& hi, __m512& dw) {
    if constexpr (Q4) {
        const auto q = [wb](int k) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb + 18 * k + 2)); };
        const __m256i a = _mm256_inserti128_si256(_mm256_castsi128_si256(q(0)), q(1), 1);
        const __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(q(2)), q(3), 1);
        const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
        const __m512i z0 = ld(wb);
        const __m512i m = _mm512_set1_epi8(0x0F);
        lo = _mm512_and_si512(v, m);
        hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
        dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(ix.q4_d, z0)));
    } else {
        // 128-bit loads + inserts measured faster here than word permutes of three 64-byte loads.
        const auto q = [wb](int k, int half) {
            return _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb + 34 * k + 2 + 16 * half));
        };
        const auto four = [&q](int half) {
            const __m256i a = _mm256_inserti128_si256(_mm256_castsi128_si256(q(0, half)), q(1, half), 1);
            const __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(q(2, half)), q(3, half), 1);
            return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
        };
        lo = four(0);
        hi = four(1);
        const __m512i z0 = ld(wb), z1 = _mm512_maskz_loadu_epi16(0xFFFFF, wb + 64);  // d of block 3 = word 51
        dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(z0, ix.q8_d, z1)));
    }
}

template <bool Q4, int NT>
inline void g4_tile(const G4Idx& ix, const uint8_t* row, int64_t nb, const uint8_t* const* xa, float* out) {
    constexpr int BS = Q4 ? 18 : 34;
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    const int64_t ng = (nb + 3) / 4;
    for (int64_t g = 0; g < ng; ++g) {
        const uint8_t* wb = row + g * 4 * BS;
        if constexpr (NT == 1) prefetch_ahead<4 * BS>(wb);  // decode (decode_prefetch.h)
        __m512i lo, hi;
        __m512 dw;
        if (4 * g + 4 <= nb) {
            load_g4<Q4>(ix, wb, lo, hi, dw);
        } else {  // last partial group: zero blocks (d = 0) after the row's end
            alignas(64) uint8_t tmp[192] = {};
            std::memcpy(tmp, wb, static_cast<size_t>((nb - 4 * g) * BS));
            load_g4<Q4>(ix, tmp, lo, hi, dw);
        }
        if constexpr (Q4) {
            for (int t = 0; t < NT; ++t) {
                const uint8_t* x = xa[t] + g * kG4Bytes;
                __m512i acc = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, ld(x));
                acc = _mm512_dpbusd_epi32(acc, hi, ld(x + 64));
                // Σ(q-8)·x = Σq·x - 8·Σx (the block sum sits in lane 4k).
                acc = _mm512_sub_epi32(acc, _mm512_slli_epi32(ld(x + 128), 3));
                facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(dw, _mm512_loadu_ps(x + 192)), facc[t]);
            }
        } else {
            // |w| as unsigned times x with w's sign: exact for every int8 w (|-128| = 128 unsigned).
            const __m512i alo = _mm512_abs_epi8(lo), ahi = _mm512_abs_epi8(hi);
            const __mmask64 nlo = _mm512_movepi8_mask(lo), nhi = _mm512_movepi8_mask(hi);
            const __m512i zero = _mm512_setzero_si512();
            for (int t = 0; t < NT; ++t) {
                const uint8_t* x = xa[t] + g * kG4Bytes;
                const __m512i xl = ld(x), xh = ld(x + 64);
                __m512i acc = _mm512_dpbusd_epi32(zero, alo, _mm512_mask_sub_epi8(xl, nlo, zero, xl));
                acc = _mm512_dpbusd_epi32(acc, ahi, _mm512_mask_sub_epi8(xh, nhi, zero, xh));
                facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(dw, _mm512_loadu_ps(x + 192)), facc[t]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

template <bool Q4>
struct G4 {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        static const G4Idx ix;
        const int64_t nb = c.w->n_in / 32, n_out = c.w->n_out;
        const size_t rb = static_cast<size_t>(nb) * (Q4 ? 18 : 34);
        const uint8_t* xa[NT];
        for (int t = 0; t < NT; ++t) xa[t] = c.p.row(t0 + t);
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            g4_tile<Q4, NT>(ix, c.w->data + rb * static_cast<size_t>(o), nb, xa, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = r[t];
        }
    }
};

// ---- PQ2_0: pairs of 128-element blocks (d, qs[32]; element j = bits 2(j%4) of qs[j/4]) ----

template <int NT>
inline void pq2_tile(const uint8_t* row, int64_t nw, const uint8_t* const* xa, float* out) {
    const __m512i three = _mm512_set1_epi8(3);
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t p = 0; 2 * p < nw; ++p) {
        const uint8_t* wa = row + 68 * p;
        if constexpr (NT == 1) prefetch_ahead<68>(wa);  // decode (decode_prefetch.h)
        const bool two = 2 * p + 1 < nw;
        const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wa + 2));
        const __m512i v = two ? _mm512_inserti64x4(_mm512_castsi256_si512(va),
                                                   _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wa + 36)), 1)
                              : _mm512_zextsi256_si512(va);
        const __m512 dw = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(rd_half(wa)), _mm512_set1_ps(two ? rd_half(wa + 34) : 0.0f));
        __m512i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) {
            const __m512i ws = _mm512_and_si512(_mm512_srli_epi16(v, static_cast<unsigned>(2 * s)), three);
            for (int t = 0; t < NT; ++t) acc[t] = _mm512_dpbusd_epi32(acc[t], ws, ld(xa[t] + p * kPq2Bytes + 64 * s));
        }
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + p * kPq2Bytes;
            const __m512i sumi = _mm512_sub_epi32(acc[t], ld(x + 256));  // Σ(q-1)·x = Σq·x - Σx
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_mul_ps(dw, _mm512_loadu_ps(x + 320)), facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
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

// ---- TQ1_0: 54-byte blocks (qs[48], qh[4], d), base-3 trits ----
// Trit n of byte b is ((b·3^n mod 256)·3) >> 8 = [p ≥ 86] + [p ≥ 171] with p = b·3^n mod 256. With
// p' = p ^ 0x80 (signed), p'(n+1) = 3·p'(n) in wrapping byte arithmetic, and the tests are signed
// compares p' > -43 and p' > 42, so each trit costs two adds, two compares and two masked moves.

// Digit policy of tq1_row (tq1_tile_avx512.h).
struct Tq1ArithmeticDigits {
    const __m512i k80 = _mm512_set1_epi8(static_cast<char>(0x80)), lo = _mm512_set1_epi8(-43), hi = _mm512_set1_epi8(42);
    const __m512i one = _mm512_set1_epi8(1), two = _mm512_set1_epi8(2);
    __m512i p;
    bool first = true;
    void start(__m512i v) {
        p = _mm512_xor_si512(v, k80);
        first = true;
    }
    __m512i next() {
        if (!first) p = _mm512_add_epi8(p, _mm512_add_epi8(p, p));
        first = false;
        const __mmask64 m1 = _mm512_cmpgt_epi8_mask(p, lo), m2 = _mm512_cmpgt_epi8_mask(p, hi);
        return _mm512_mask_mov_epi8(_mm512_maskz_mov_epi8(m1, one), m2, two);
    }
};

struct Tq1 {
    template <int NT>
    static void rows(const Ctx& c, int64_t ob, int64_t oe, int64_t t0) {
        const int64_t nb = c.w->n_in / 256, n_out = c.w->n_out;
        const uint8_t* xa[NT];
        for (int t = 0; t < NT; ++t) xa[t] = c.p.row(t0 + t);
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            Tq1ArithmeticDigits d;
            tq1_row<NT>(d, c.w->data + static_cast<size_t>(nb) * 54 * static_cast<size_t>(o), nb, xa, r);
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = r[t];
        }
    }
};

// ---- PTQ1_0: 28-byte blocks (qs[24], qh[2], d) of 128 trits, two blocks per vector, Q8_0 activations ----
// The trits of positions n = 0,1 / 2,3 / 4 map lanes to activation blocks in three different ways
// (pack_ptq1), so each group is converted and scaled on its own.

template <int NT>
inline void ptq1_tile(const uint8_t* row, int64_t nw, const uint8_t* const* xa, float* out) {
    const __m512i k80 = _mm512_set1_epi8(static_cast<char>(0x80)), lo = _mm512_set1_epi8(-43), hi = _mm512_set1_epi8(42);
    const __m512i one = _mm512_set1_epi8(1), two = _mm512_set1_epi8(2);
    const __mmask32 bytes26 = (1u << 26) - 1;
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t p = 0; 2 * p < nw; ++p) {
        const uint8_t* wa = row + 56 * p;
        if constexpr (NT == 1) prefetch_ahead<56>(wa);  // decode (decode_prefetch.h)
        const bool pair = 2 * p + 1 < nw;
        const __m256i va = _mm256_maskz_loadu_epi8(bytes26, wa);
        const __m256i vb = pair ? _mm256_maskz_loadu_epi8(bytes26, wa + 28) : _mm256_setzero_si256();
        __m512i pv = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(va), vb, 1), k80);
        const __m512 dw = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(rd_half(wa + 26)),
                                               _mm512_set1_ps(pair ? rd_half(wa + 54) : 0.0f));
        __m512i acc[NT];
#pragma GCC unroll 5
        for (int n = 0; n < 5; ++n) {
            if (n == 0 || n == 2 || n == 4)
                for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
            if (n > 0) pv = _mm512_add_epi8(pv, _mm512_add_epi8(pv, pv));
            const __mmask64 m1 = _mm512_cmpgt_epi8_mask(pv, lo), m2 = _mm512_cmpgt_epi8_mask(pv, hi);
            const __m512i tr = _mm512_mask_mov_epi8(_mm512_maskz_mov_epi8(m1, one), m2, two);
            for (int t = 0; t < NT; ++t) acc[t] = _mm512_dpbusd_epi32(acc[t], tr, ld(xa[t] + p * kPtq1Bytes + 64 * n));
            if (n == 1 || n == 3 || n == 4) {
                const int g = n / 2;
                for (int t = 0; t < NT; ++t) {
                    const uint8_t* x = xa[t] + p * kPtq1Bytes;
                    const __m512i sumi = _mm512_sub_epi32(acc[t], ld(x + 320 + 64 * g));  // Σ(t-1)·x = Σt·x - Σx
                    facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi),
                                              _mm512_mul_ps(dw, _mm512_loadu_ps(x + 512 + 64 * g)), facc[t]);
                }
            }
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
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

// ---- I2_S: 128-element blocks of 32 bytes, element 32g + m at bits 6-2g of byte m; one int32 sum per row ----

template <int NT>
inline void i2s_tile(const uint8_t* row, int64_t nb, const uint8_t* const* xq, int32_t* out) {
    const __m512i three = _mm512_set1_epi8(3);
    __m512i acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
    for (int64_t p = 0; 2 * p < nb; ++p) {
        if constexpr (NT == 1) prefetch_ahead<64>(row + 64 * p);  // decode (decode_prefetch.h)
        const __m512i v = 2 * p + 1 < nb ? ld(row + 64 * p) : _mm512_maskz_loadu_epi8(0xFFFFFFFFull, row + 64 * p);
        // A fresh 4-step chain per pair, then one add: a single vpdpbusd chain over the whole row
        // serializes on its latency (measured ~1.4x slower at decode).
        __m512i part[NT];
        for (int t = 0; t < NT; ++t) part[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
            const __m512i wg = _mm512_and_si512(_mm512_srli_epi16(v, static_cast<unsigned>(6 - 2 * g)), three);
            for (int t = 0; t < NT; ++t) part[t] = _mm512_dpbusd_epi32(part[t], wg, ld(xq[t] + p * kI2sBytes + 64 * g));
        }
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_add_epi32(acc[t], part[t]);
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_epi32(acc[t]);
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
            // Same float expression as the scalar kernel: (Σcode·a − Σa) / s · scale.
            for (int t = 0; t < NT; ++t) c.y[(t0 + t) * n_out + o] = static_cast<float>(r[t] - sum[t]) / s[t] * wscale;
        }
    }
};

// ---- F16 / BF16 weights against float activations ----

template <bool BF>
inline __m512 cvt16(__m256i h) {
    if constexpr (BF) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
        return _mm512_cvtph_ps(h);
    }
}

template <bool BF, int NT>
inline void f16_tile(const uint8_t* row, int64_t n, const float* const* x, float* out) {
    __m512 f0[NT], f1[NT];
    for (int t = 0; t < NT; ++t) f0[t] = f1[t] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 w0 = cvt16<BF>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i)));
        const __m512 w1 = cvt16<BF>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i + 32)));
        for (int t = 0; t < NT; ++t) {
            f0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[t] + i), f0[t]);
            f1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[t] + i + 16), f1[t]);
        }
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
        const __m512 w = cvt16<BF>(_mm256_maskz_loadu_epi16(m, row + 2 * i));
        for (int t = 0; t < NT; ++t) f0[t] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m, x[t] + i), f0[t]);
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(_mm512_add_ps(f0[t], f1[t]));
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

ExtKernelTable ext_avx512_kernels() {
    ExtKernelTable k;
    k.tq1_0 = has_avx512_vbmi() ? tq1_0_vbmi : gemm_tq1_0;
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
ExtKernelTable ext_avx512_kernels() { return ExtKernelTable{}; }  // not an x86 build
}  // namespace bonsai::cpu::detail
#endif
