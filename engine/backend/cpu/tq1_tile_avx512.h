#pragma once
// One TQ1_0 row against NT tokens of pack_tq1 activations (kernels_ext.h), AVX-512 VNNI; shared by
// kernels_ext_avx512.cpp and kernels_ext_avx512_vbmi.cpp, which differ only in how they turn a block's
// 52 packed bytes into the 64 digits of position n (the Digits policy). Include only from files compiled
// with AVX-512 F/BW/VNNI (and whatever the policy needs).
//
// Digits: d.start(v) with the block's bytes (bytes 52..63 zero), then d.next() for n = 0..4 in order,
// each giving byte m = digit n of byte m (0..2). Sums are exact: Σ(t-1)·x = Σt·x - Σx per block.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/decode_prefetch.h"

namespace bonsai::cpu::detail {

template <int NT, class Digits>
inline void tq1_row(Digits& d, const uint8_t* row, int64_t nb, const uint8_t* const* xa, float* out) {
    const __mmask64 bytes52 = (1ull << 52) - 1;
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wb = row + 54 * b;
        if constexpr (NT == 1) prefetch_ahead<54>(wb);  // decode (decode_prefetch.h)
        d.start(_mm512_maskz_loadu_epi8(bytes52, wb));
        __m512i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
#pragma GCC unroll 5
        for (int n = 0; n < 5; ++n) {
            const __m512i tr = d.next();
            for (int t = 0; t < NT; ++t) acc[t] = _mm512_dpbusd_epi32(acc[t], tr, _mm512_loadu_si512(xa[t] + 320 * b + 64 * n));
        }
        uint16_t dh;
        std::memcpy(&dh, wb + 52, 2);
        const float dw = _cvtsh_ss(dh);
        for (int t = 0; t < NT; ++t) {
            const uint8_t* tail = xa[t] + 320 * nb;  // nb f32 block scales, then nb int32 block sums
            float dx;
            int32_t sum;
            std::memcpy(&dx, tail + 4 * b, 4);
            std::memcpy(&sum, tail + 4 * nb + 4 * b, 4);
            // Σ(t-1)·x = Σt·x - Σx: the block's activation sum off lane 0 (exact).
            const __m512i s = _mm512_mask_sub_epi32(acc[t], 1, acc[t], _mm512_set1_epi32(sum));
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(dx * dw), facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

}  // namespace bonsai::cpu::detail
