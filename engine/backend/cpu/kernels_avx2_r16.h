#pragma once
// The AVX2 R16 tile of Q1_0 / Q2_0 (kernels_avx2.cpp's prompt tiles and kernels_avx2_decode.cpp's one-token
// rows). Include only from files compiled with -mavx2 -mfma -mf16c. The templates sit in an unnamed
// namespace on purpose: the two files build them with different scheduling flags (CMakeLists.txt), and
// shared inline instantiations would let the linker keep either file's code for both.
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/avx2_common.h"
#include "backend/cpu/decode_prefetch.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/tile_loop.h"

namespace bonsai::cpu::detail {
namespace {

using namespace avx2_common;

template <bool Q1, int NT>
inline void r16_tile(const uint8_t* codes, const uint16_t* sc, int64_t nc, const uint8_t* const* xa, float* out) {
    constexpr int CB = Q1 ? 64 : 128, NS = Q1 ? 4 : 8;
    const __m256i mask = _mm256_set1_epi8(Q1 ? 1 : 3);
    const __m256i idx0 = Q1 ? _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1) : _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    const __m256i idx1 = Q1 ? _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3) : _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
    __m256 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm256_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        const uint8_t* cb = codes + c * CB;
        if constexpr (NT == 1 && !Q1) prefetch_ahead<CB>(cb);  // decode (decode_prefetch.h)
        // The 8 steps of a half-chunk add their vpmaddubsw pair sums in 16 bits and widen once
        // (|pair| ≤ 2·3·127, times 8 < 2^15): vpmaddwd + vpaddd per half-chunk instead of per step.
        __m256i acc[NT][2];
        for (int h = 0; h < 2; ++h) {
            const __m256i V0 = ld(cb + 32 * h);
            const __m256i V1 = Q1 ? V0 : ld(cb + 64 + 32 * h);
            __m256i a16[NT];
            for (int t = 0; t < NT; ++t) a16[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int s = 0; s < 8; ++s) {
                const __m256i v = Q1 || s < 4 ? V0 : V1;
                const int shift = Q1 ? s : 2 * (s & 3);
                const __m256i ws = _mm256_and_si256(_mm256_srli_epi16(v, shift), mask);
                for (int t = 0; t < NT; ++t)
                    a16[t] = _mm256_add_epi16(a16[t], _mm256_maddubs_epi16(ws, ld(xa[t] + c * 640 + 64 * s + 32 * h)));
            }
            for (int t = 0; t < NT; ++t) acc[t][h] = _mm256_madd_epi16(a16[t], _mm256_set1_epi16(1));
        }
        __m256 dws;
        if constexpr (Q1) {
            dws = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + c * NS))));
        } else {
            dws = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + c * NS)));
        }
        const __m256 dw[2] = {_mm256_permutevar8x32_ps(dws, idx0), _mm256_permutevar8x32_ps(dws, idx1)};
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + c * 640;
            for (int h = 0; h < 2; ++h) {
                const __m256i nsum = ld(x + 576 + 32 * h);  // -Σx (Activations::aux)
                const __m256i sumi = Q1 ? _mm256_add_epi32(_mm256_slli_epi32(acc[t][h], 1), nsum)
                                        : _mm256_add_epi32(acc[t][h], nsum);
                const __m256 d = _mm256_mul_ps(dw[h], _mm256_loadu_ps(reinterpret_cast<const float*>(x + 512 + 32 * h)));
                facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), d, facc[t]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(facc[t]);
}

template <bool Q1, int NT>
void r16_rows(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
    r16_row_walk<Q1, NT>(w, a, ob, oe, t0, y, [](const uint8_t* codes, const uint16_t* sc, int64_t nc, const uint8_t* const* xa, float* r) {
        r16_tile<Q1, NT>(codes, sc, nc, xa, r);
    });
}

}  // namespace
}  // namespace bonsai::cpu::detail
