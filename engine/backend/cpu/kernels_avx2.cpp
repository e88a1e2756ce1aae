// AVX2 + FMA + F16C kernels (desktops without AVX-512). Same data layouts and integer math as
// kernels_avx512.cpp; the 4-way int8 dot product is vpmaddubsw + vpmaddwd (codes are at most 3, so
// the 16-bit pair sums cannot saturate). Compiled alone with -mavx2 -mfma -mf16c.
#include "backend/cpu/avx2_common.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include "backend/cpu/decode_prefetch.h"
#include "backend/cpu/kernels_avx2_r16.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/repack.h"

namespace bonsai::cpu::detail {
namespace {

using namespace avx2_common;

constexpr int kMaxTile = 4;

template <int NT>
inline void tq2_tile(const uint8_t* wrow, int64_t nb, const uint8_t* const* ya, const int32_t* const* sums, float* out) {
    const __m256i three = _mm256_set1_epi8(3);
    __m256 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wb = wrow + b * 66;
        if constexpr (NT == 1) prefetch_ahead<66>(wb);  // decode (decode_prefetch.h)
        const __m256i V0 = ld(wb), V1 = ld(wb + 32);
        uint16_t dh;
        std::memcpy(&dh, wb + 64, 2);
        const float dw = _cvtsh_ss(dh);
        // 16-bit sums of the block's 8 vpmaddubsw (|pair| ≤ 2·3·128, times 8 < 2^15), widened once.
        __m256i a16[NT];
        for (int t = 0; t < NT; ++t) a16[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
            const __m256i w0 = _mm256_and_si256(_mm256_srli_epi16(V0, 2 * l), three);
            const __m256i w1 = _mm256_and_si256(_mm256_srli_epi16(V1, 2 * l), three);
            for (int t = 0; t < NT; ++t) {
                const uint8_t* q = ya[t] + b * 292 + 4;
                a16[t] = _mm256_add_epi16(a16[t], _mm256_add_epi16(_mm256_maddubs_epi16(w0, ld(q + 32 * l)),
                                                                   _mm256_maddubs_epi16(w1, ld(q + 128 + 32 * l))));
            }
        }
        __m256i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_madd_epi16(a16[t], _mm256_set1_epi16(1));
        for (int t = 0; t < NT; ++t) {
            float dx;
            std::memcpy(&dx, ya[t] + b * 292, 4);
            const __m256i s = _mm256_sub_epi32(acc[t], _mm256_setr_epi32(sums[t][b], 0, 0, 0, 0, 0, 0, 0));
            facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(dx * dw), facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(facc[t]);
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
void gemm_q2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    if (a.n_rows() == 1) return q2_0_r16_decode_avx2(w, a, o0, o1, y);  // kernels_avx2_decode.cpp
    drive<Q2Rows>(w, a, o0, o1, y);
}
void gemm_tq2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) { drive<Tq2Rows>(w, a, o0, o1, y); }

// In-lane 16×16 byte transposes of 16 vectors: lane L of out[c] = byte c of lane L of in[0..15].
inline void transpose16_lanes(const __m256i* in, __m256i* out) {
    __m256i s1[16], s2[16], s3[16];
    for (int j = 0; j < 8; ++j) {
        s1[j] = _mm256_unpacklo_epi8(in[2 * j], in[2 * j + 1]);      // columns 0-7 of rows 2j, 2j + 1
        s1[j + 8] = _mm256_unpackhi_epi8(in[2 * j], in[2 * j + 1]);  // columns 8-15
    }
    for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 4; ++j) {  // s2[4G + j]: columns 4G .. 4G + 3 of rows 4j .. 4j + 3
            s2[8 * h + j] = _mm256_unpacklo_epi16(s1[8 * h + 2 * j], s1[8 * h + 2 * j + 1]);
            s2[8 * h + 4 + j] = _mm256_unpackhi_epi16(s1[8 * h + 2 * j], s1[8 * h + 2 * j + 1]);
        }
    for (int G = 0; G < 4; ++G)
        for (int j = 0; j < 2; ++j) {  // s3[4G + 2k + j]: columns 4G + 2k, + 1 of rows 8j .. 8j + 7
            s3[4 * G + j] = _mm256_unpacklo_epi32(s2[4 * G + 2 * j], s2[4 * G + 2 * j + 1]);
            s3[4 * G + 2 + j] = _mm256_unpackhi_epi32(s2[4 * G + 2 * j], s2[4 * G + 2 * j + 1]);
        }
    for (int G = 0; G < 4; ++G)
        for (int k = 0; k < 2; ++k) {
            out[4 * G + 2 * k] = _mm256_unpacklo_epi64(s3[4 * G + 2 * k], s3[4 * G + 2 * k + 1]);
            out[4 * G + 2 * k + 1] = _mm256_unpackhi_epi64(s3[4 * G + 2 * k], s3[4 * G + 2 * k + 1]);
        }
}

// 32 vectors of 32 bytes -> out[i] (32 bytes) holds byte i of every input vector (a 32×32 byte transpose).
inline void transpose32x32(const uint8_t* in, uint8_t* const* out) {
    __m256i a[16], b[16], ta[16], tb[16];
    for (int m = 0; m < 16; ++m) {
        a[m] = ld(in + 32 * m);
        b[m] = ld(in + 32 * (m + 16));
    }
    transpose16_lanes(a, ta);
    transpose16_lanes(b, tb);
    for (int c = 0; c < 16; ++c) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[c]), _mm256_permute2x128_si256(ta[c], tb[c], 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[c + 16]), _mm256_permute2x128_si256(ta[c], tb[c], 0x31));
    }
}

// TQ2_0 in Layout::R32T: decode-sized batches (up to kR32TTableTokens) through the table kernel
// (kernels_avx2_table.cpp); prompt batches transpose each 32-row block's units back into native rows in a
// per-thread buffer (two 32×32 byte transposes per unit, ~100 ns; a byte-by-byte copy cost 40 % of the
// tiles at 16 tokens) and run the tiles. Against the native layout's tiles this path is 10-20 % slower at
// 9-16 tokens and 0-6 % from 64 (its conversion, and the 16-row passes measured no better), the table
// kernel ~10 % slower at 3-8: the price of the table kernel's decode.
constexpr int64_t kR32TTableTokens = 8;
void gemm_tq2_r32t(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t n_tok = a.n_rows();
    if (n_tok <= kR32TTableTokens) return tq2_0_r32t_table_avx2(w, a, o0, o1, y);
    const int64_t nb = w.n_in / 256, n_out = w.n_out;
    const R32TView<const uint8_t> view{w.data, nb, n_out / 32};
    thread_local std::vector<uint8_t> rows;
    rows.resize(static_cast<size_t>(32 * nb * 66));
    const uint8_t* ya[kMaxTile];
    const int32_t* sums[kMaxTile];
    for (int64_t rb = o0 / 32; rb * 32 < o1; ++rb) {
        const int64_t ob = std::max<int64_t>(o0, 32 * rb), oe = std::min<int64_t>(o1, 32 * rb + 32);
        for (int64_t b = 0; b < nb; ++b) {
            // Every row of the block (also those outside [ob, oe)): the transposes write position p of
            // the unit straight into the row whose byte it is (r32l_pos(r) = p), codes 0-31 then 32-63.
            const uint8_t* u = view.unit(rb, b);
            uint8_t* lo[32];
            uint8_t* hi[32];
            for (int r = 0; r < 32; ++r) {
                uint8_t* blk = rows.data() + (r * nb + b) * 66;
                lo[r32l_pos(r)] = blk;
                hi[r32l_pos(r)] = blk + 32;
                std::memcpy(blk + 64, u + 2048 + 2 * r, 2);
            }
            transpose32x32(u, lo);
            transpose32x32(u + 1024, hi);
        }
        for (int64_t t0 = 0; t0 < n_tok; t0 += kMaxTile)
            with_tile_size<kMaxTile>(std::min<int64_t>(kMaxTile, n_tok - t0), [&](auto nt) {
                constexpr int NT = decltype(nt)::value;
                for (int t = 0; t < NT; ++t) {
                    ya[t] = a.row(t0 + t);
                    sums[t] = reinterpret_cast<const int32_t*>(a.aux(t0 + t));
                }
                for (int64_t o = ob; o < oe; ++o) {
                    float r[NT];
                    tq2_tile<NT>(rows.data() + (o - 32 * rb) * nb * 66, nb, ya, sums, r);
                    for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o] = r[t];
                }
            });
    }
}

}  // namespace

KernelTable avx2_kernels() {
    KernelTable k;
    k.q1_0_r16 = gemm_q1;
    k.q1_0_r32l = q1_0_r32l_avx2;
    k.q2_0_r16 = gemm_q2;
    k.tq2_0 = gemm_tq2;
    k.tq2_0_r32t = gemm_tq2_r32t;
    return k;
}

}  // namespace bonsai::cpu::detail
#else
namespace bonsai::cpu::detail {
KernelTable avx2_kernels() { return KernelTable{}; }  // not an x86 build
}  // namespace bonsai::cpu::detail
#endif
