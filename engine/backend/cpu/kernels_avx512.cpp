// AVX-512 (F, BW, VL, VNNI) kernels. This file alone is compiled with -mavx512* flags (CMakeLists.txt);
// nothing here may run before cpu_features confirmed the ISA. Integer sums are exact (vpdpbusd:
// unsigned 2-bit / 1-bit codes times signed int8 activations), so results equal the scalar kernels
// up to float summation order.
#include "backend/cpu/kernels.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace bonsai::cpu::detail {
namespace {

constexpr int kMaxTile = 8;  // tokens per register tile (prefill); 1 for decode

// Q1_0 / Q2_0 R16: one row against NT activation rows. xa[t] = Activations::aux(t) (R16 form).
template <bool Q1, int NT>
inline void r16_tile(const uint8_t* codes, const uint16_t* sc, int64_t nc, const uint8_t* const* xa, float* out) {
    constexpr int CB = Q1 ? 64 : 128, NS = Q1 ? 4 : 8;
    const __m512i mask = _mm512_set1_epi8(Q1 ? 1 : 3);
    const __m512i idx = Q1 ? _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0)
                           : _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        const uint8_t* cb = codes + c * CB;
        const __m512i V0 = _mm512_loadu_si512(cb);
        const __m512i V1 = Q1 ? V0 : _mm512_loadu_si512(cb + 64);
        __m512i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
            const __m512i v = Q1 || s < 4 ? V0 : V1;
            const unsigned shift = Q1 ? static_cast<unsigned>(s) : static_cast<unsigned>(2 * (s & 3));
            const __m512i ws = _mm512_and_si512(_mm512_srli_epi16(v, shift), mask);
            for (int t = 0; t < NT; ++t)
                acc[t] = _mm512_dpbusd_epi32(acc[t], ws, _mm512_loadu_si512(xa[t] + c * 640 + 64 * s));
        }
        __m512 dw;
        if constexpr (Q1) {
            dw = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + c * NS))));
        } else {
            dw = _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + c * NS))));
        }
        dw = _mm512_permutexvar_ps(idx, dw);
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + c * 640;
            const __m512i tsum = _mm512_loadu_si512(x + 576);
            // Q1_0: code 1 -> +1, 0 -> -1, so Σv·x = 2Σb·x - Σx. Q2_0: Σ(q-1)·x = Σq·x - Σx.
            const __m512i sumi = Q1 ? _mm512_sub_epi32(_mm512_slli_epi32(acc[t], 1), tsum) : _mm512_sub_epi32(acc[t], tsum);
            const __m512 d = _mm512_mul_ps(dw, _mm512_loadu_ps(reinterpret_cast<const float*>(x + 512)));
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), d, facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

// Q1_0 R16M: one row against NT activation rows. Each step's 64-bit mask selects the activation bytes
// whose weight is +1: one token uses a masked load (no unpacking at all), several tokens expand the mask
// to 0/1 bytes once (maskz_mov) and share it. Σ(2b-1)·x = 2Σb·x - Σx as in r16_tile.
template <int NT>
inline void r16m_tile(const uint8_t* codes, const uint16_t* sc, int64_t nc, const uint8_t* const* xa, float* out) {
    const __m512i ones = _mm512_set1_epi8(1);
    const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        const uint8_t* cb = codes + c * 64;
        // Two accumulators per token for one token: the 8 dependent dpbusd of a chunk would otherwise
        // form one long latency chain.
        constexpr int NA = NT == 1 ? 2 : 1;
        __m512i acc[NT][NA];
        for (int t = 0; t < NT; ++t)
            for (int a = 0; a < NA; ++a) acc[t][a] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
            uint64_t bits;
            std::memcpy(&bits, cb + 8 * s, 8);
            const __mmask64 k = _cvtu64_mask64(bits);
            if constexpr (NT == 1) {
                acc[0][s & 1] = _mm512_dpbusd_epi32(acc[0][s & 1], ones, _mm512_maskz_loadu_epi8(k, xa[0] + c * 640 + 64 * s));
            } else {
                const __m512i ws = _mm512_maskz_mov_epi8(k, ones);
                for (int t = 0; t < NT; ++t)
                    acc[t][0] = _mm512_dpbusd_epi32(acc[t][0], ws, _mm512_loadu_si512(xa[t] + c * 640 + 64 * s));
            }
        }
        __m512 dw = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + c * 4))));
        dw = _mm512_permutexvar_ps(idx, dw);
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + c * 640;
            const __m512i a = NA == 2 ? _mm512_add_epi32(acc[t][0], acc[t][NA - 1]) : acc[t][0];
            const __m512i sumi = _mm512_sub_epi32(_mm512_slli_epi32(a, 1), _mm512_loadu_si512(x + 576));
            const __m512 d = _mm512_mul_ps(dw, _mm512_loadu_ps(reinterpret_cast<const float*>(x + 512)));
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), d, facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

// Q1_0 R16M prefill: two rows × NT (≤ 4) tokens per call, so each activation load feeds two dpbusd
// and each expanded mask NT of them (the one-row tile is bound by loads, not by vpdpbusd).
template <int NT>
inline void r16m_pair(const uint8_t* c0, const uint8_t* c1, const uint16_t* s0, const uint16_t* s1, int64_t nc,
                      const uint8_t* const* xa, float* out0, float* out1) {
    const __m512i ones = _mm512_set1_epi8(1);
    const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 f0[NT], f1[NT];
    for (int t = 0; t < NT; ++t) f0[t] = f1[t] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        __m512i a0[NT], a1[NT];
        for (int t = 0; t < NT; ++t) a0[t] = a1[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
            uint64_t b0, b1;
            std::memcpy(&b0, c0 + c * 64 + 8 * s, 8);
            std::memcpy(&b1, c1 + c * 64 + 8 * s, 8);
            const __m512i w0 = _mm512_maskz_mov_epi8(_cvtu64_mask64(b0), ones);
            const __m512i w1 = _mm512_maskz_mov_epi8(_cvtu64_mask64(b1), ones);
            for (int t = 0; t < NT; ++t) {
                const __m512i x = _mm512_loadu_si512(xa[t] + c * 640 + 64 * s);
                a0[t] = _mm512_dpbusd_epi32(a0[t], w0, x);
                a1[t] = _mm512_dpbusd_epi32(a1[t], w1, x);
            }
        }
        const __m512 d0 = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_cvtph_ps(
                                                         _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s0 + c * 4)))));
        const __m512 d1 = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_cvtph_ps(
                                                         _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s1 + c * 4)))));
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + c * 640;
            const __m512i tsum = _mm512_loadu_si512(x + 576);
            const __m512 dx = _mm512_loadu_ps(reinterpret_cast<const float*>(x + 512));
            f0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_slli_epi32(a0[t], 1), tsum)), _mm512_mul_ps(d0, dx), f0[t]);
            f1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_slli_epi32(a1[t], 1), tsum)), _mm512_mul_ps(d1, dx), f1[t]);
        }
    }
    for (int t = 0; t < NT; ++t) {
        out0[t] = _mm512_reduce_add_ps(f0[t]);
        out1[t] = _mm512_reduce_add_ps(f1[t]);
    }
}

// Rows [ob, oe) × tokens [t0, t0 + NT) of a Q1_0 R16M weight with r16m_pair, in token groups of ≤ 4.
template <int NT>
void r16m_rows_prefill(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
    const int64_t nc = w.n_in / 512, n_out = w.n_out;
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(w.data + n_out * nc * 64);
    constexpr int G0 = NT > 4 ? 4 : NT, G1 = NT - G0;
    const uint8_t* xa[NT];
    for (int t = 0; t < NT; ++t) xa[t] = a.aux(t0 + t);
    int64_t o = ob;
    for (; o + 1 < oe; o += 2) {
        float r0[NT], r1[NT];
        const uint8_t* c0 = w.data + o * nc * 64;
        r16m_pair<G0>(c0, c0 + nc * 64, scales + o * nc * 4, scales + (o + 1) * nc * 4, nc, xa, r0, r1);
        if constexpr (G1 > 0)
            r16m_pair<G1>(c0, c0 + nc * 64, scales + o * nc * 4, scales + (o + 1) * nc * 4, nc, xa + G0, r0 + G0, r1 + G0);
        for (int t = 0; t < NT; ++t) {
            y[(t0 + t) * n_out + o] = r0[t];
            y[(t0 + t) * n_out + o + 1] = r1[t];
        }
    }
    if (o < oe) {  // odd last row: the one-row tile
        float r[NT];
        r16m_tile<NT>(w.data + o * nc * 64, scales + o * nc * 4, nc, xa, r);
        for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o] = r[t];
    }
}

// TQ2_0 native blocks (qs[64], d) against NT Q8_K rows: element 128c + 32l + m is bits 2l of qs[32c + m].
template <int NT>
inline void tq2_tile(const uint8_t* wrow, int64_t nb, const uint8_t* const* ya, const int32_t* const* sums, float* out) {
    const __m512i three = _mm512_set1_epi8(3);
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wb = wrow + b * 66;
        const __m512i V = _mm512_loadu_si512(wb);
        uint16_t dh;
        std::memcpy(&dh, wb + 64, 2);
        const float dw = _cvtsh_ss(dh);
        __m512i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
            const __m512i wl = _mm512_and_si512(_mm512_srli_epi16(V, static_cast<unsigned>(2 * l)), three);
            for (int t = 0; t < NT; ++t) {
                const uint8_t* q = ya[t] + b * 292 + 4;
                const __m512i x = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * l))),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 128 + 32 * l)), 1);
                acc[t] = _mm512_dpbusd_epi32(acc[t], wl, x);
            }
        }
        for (int t = 0; t < NT; ++t) {
            float dx;
            std::memcpy(&dx, ya[t] + b * 292, 4);
            // Σ(q-1)·x = Σq·x - Σx: subtract the block's activation sum from lane 0 (exact).
            const __m512i s = _mm512_mask_sub_epi32(acc[t], 1, acc[t], _mm512_set1_epi32(sums[t][b]));
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(dx * dw), facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

template <bool Q1, int NT, bool Mask = false>
void r16_rows(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
    const int64_t nc = w.n_in / 512, n_out = w.n_out;
    constexpr int CB = Q1 ? 64 : 128, NS = Q1 ? 4 : 8;
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(w.data + n_out * nc * CB);
    const uint8_t* xa[NT];
    for (int t = 0; t < NT; ++t) xa[t] = a.aux(t0 + t);
    for (int64_t o = ob; o < oe; ++o) {
        float r[NT];
        if constexpr (Mask) {
            r16m_tile<NT>(w.data + o * nc * CB, scales + o * nc * NS, nc, xa, r);
        } else {
            r16_tile<Q1, NT>(w.data + o * nc * CB, scales + o * nc * NS, nc, xa, r);
        }
        for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o] = r[t];
    }
}

template <int NT>
void tq2_rows(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
    const int64_t nb = w.n_in / 256, n_out = w.n_out;
    const uint8_t* ya[NT];
    const int32_t* sums[NT];
    for (int t = 0; t < NT; ++t) {
        ya[t] = a.row(t0 + t);
        sums[t] = reinterpret_cast<const int32_t*>(a.aux(t0 + t));
    }
    for (int64_t o = ob; o < oe; ++o) {
        float r[NT];
        tq2_tile<NT>(w.data + o * nb * 66, nb, ya, sums, r);
        for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o] = r[t];
    }
}

// Blocks of 16 rows × up to kMaxTile tokens keep both the rows and the token tile in L1.
template <template <int> class Rows>
void drive(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    for_each_tile<kMaxTile>(o0, o1, a.n_rows(), [&](auto nt, int64_t ob, int64_t oe, int64_t t0) {
        Rows<decltype(nt)::value>::run(w, a, ob, oe, t0, y);
    });
}

template <int NT>
struct Q1Rows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        r16_rows<true, NT>(w, a, ob, oe, t0, y);
    }
};
template <int NT>
struct Q1MaskRows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        if constexpr (NT == 1) {
            r16_rows<true, NT, true>(w, a, ob, oe, t0, y);
        } else {
            r16m_rows_prefill<NT>(w, a, ob, oe, t0, y);
        }
    }
};
template <int NT>
struct Q2Rows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        r16_rows<false, NT>(w, a, ob, oe, t0, y);
    }
};
template <int NT>
struct Tq2Rows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        tq2_rows<NT>(w, a, ob, oe, t0, y);
    }
};

void gemm_q1(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) { drive<Q1Rows>(w, a, o0, o1, y); }
void gemm_q1m(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) { drive<Q1MaskRows>(w, a, o0, o1, y); }
void gemm_q2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) { drive<Q2Rows>(w, a, o0, o1, y); }
void gemm_tq2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) { drive<Tq2Rows>(w, a, o0, o1, y); }

}  // namespace

KernelTable avx512_kernels() {
    KernelTable k;
    k.q1_0_r16 = gemm_q1;
    k.q1_0_r16m = gemm_q1m;
    k.q2_0_r16 = gemm_q2;
    k.tq2_0 = gemm_tq2;
    return k;
}

}  // namespace bonsai::cpu::detail
#else
namespace bonsai::cpu::detail {
KernelTable avx512_kernels() { return KernelTable{}; }  // not an x86 build
}  // namespace bonsai::cpu::detail
#endif
