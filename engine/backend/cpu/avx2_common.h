#pragma once
// AVX2 helpers shared by the files compiled with -mavx2 -mfma -mf16c (kernels_avx2.cpp,
// kernels_ext_avx2.cpp, row_ops_avx2.cpp). Include only from those files.
#if defined(__AVX2__)
#include <immintrin.h>

#include <cstdint>

namespace bonsai::cpu::detail::avx2_common {

inline __m256i ld(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// acc + Σ of 4 adjacent u8·s8 products per int32 lane (vpmaddubsw + vpmaddwd: no VNNI on plain AVX2).
// Callers keep the unsigned operand small enough that the 16-bit pair sums cannot saturate.
inline __m256i dp(__m256i acc, __m256i u8, __m256i s8) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u8, s8), _mm256_set1_epi16(1)));
}

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

}  // namespace bonsai::cpu::detail::avx2_common
#endif
