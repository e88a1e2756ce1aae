// AVX-512 body of row_ops.h's attention (attend_group); compiled with AVX-512 flags (CMakeLists.txt) and
// called by row_ops.cpp only when active_isa() is Avx512. The softmax is the AVX2 body's (same numerics).
//
// Why: a decode step against a long context reads every cached K and V row once (235 MB per token at
// 2048 positions for the 1.7B shape); with 8-lane conversions and a pass over V per 32 value dims the
// AVX2 body ran at ~19 GB/s on Zen 4, below what memory delivers.
#include "backend/cpu/row_ops_detail.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>

#include <algorithm>
#include <limits>

namespace bonsai::cpu::detail::avx512 {
namespace {

inline __m512 load_h16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }

inline __m256 fold(__m512 a) {
    return _mm256_add_ps(_mm512_castps512_ps256(a), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
}

// {Σa, Σb, Σc, Σd} of four vectors: one reduction tree for four dot products.
inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(fold(a), fold(b)), _mm256_hadd_ps(fold(c), fold(d)));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// Scores of NH query heads against every position (K rows `stride` halves apart), times `scale`; mx[h]
// receives each row's maximum. Four positions per pass: each K row is converted once for the heads.
template <int NH>
void scores(const float* q, int64_t dim, const uint16_t* k, int64_t stride, int64_t n_kv, float scale, float* sc, float* mx) {
    const __m128 vscale = _mm_set1_ps(scale);
    __m128 m[NH];
    for (int h = 0; h < NH; ++h) m[h] = _mm_set1_ps(-std::numeric_limits<float>::infinity());
    int64_t j = 0;
    for (; j + 4 <= n_kv; j += 4) {
        const uint16_t* k0 = k + j * stride;
        __m512 a[NH][4];
        for (int h = 0; h < NH; ++h)
            for (int c = 0; c < 4; ++c) a[h][c] = _mm512_setzero_ps();
        for (int64_t d = 0; d < dim; d += 16) {
            const __m512 f0 = load_h16(k0 + d), f1 = load_h16(k0 + stride + d), f2 = load_h16(k0 + 2 * stride + d),
                         f3 = load_h16(k0 + 3 * stride + d);
            for (int h = 0; h < NH; ++h) {
                const __m512 qv = _mm512_loadu_ps(q + h * dim + d);
                a[h][0] = _mm512_fmadd_ps(qv, f0, a[h][0]);
                a[h][1] = _mm512_fmadd_ps(qv, f1, a[h][1]);
                a[h][2] = _mm512_fmadd_ps(qv, f2, a[h][2]);
                a[h][3] = _mm512_fmadd_ps(qv, f3, a[h][3]);
            }
        }
        for (int h = 0; h < NH; ++h) {
            const __m128 s = _mm_mul_ps(hsum4(a[h][0], a[h][1], a[h][2], a[h][3]), vscale);
            _mm_storeu_ps(sc + h * n_kv + j, s);
            m[h] = _mm_max_ps(m[h], s);
        }
    }
    for (int h = 0; h < NH; ++h) {
        __m128 t = _mm_max_ps(m[h], _mm_movehl_ps(m[h], m[h]));
        t = _mm_max_ss(t, _mm_movehdup_ps(t));
        mx[h] = _mm_cvtss_f32(t);
    }
    for (; j < n_kv; ++j) {
        const uint16_t* kr = k + j * stride;
        __m512 a[NH];
        for (int h = 0; h < NH; ++h) a[h] = _mm512_setzero_ps();
        for (int64_t d = 0; d < dim; d += 16) {
            const __m512 f = load_h16(kr + d);
            for (int h = 0; h < NH; ++h) a[h] = _mm512_fmadd_ps(_mm512_loadu_ps(q + h * dim + d), f, a[h]);
        }
        for (int h = 0; h < NH; ++h) {
            const float s = _mm512_reduce_add_ps(a[h]) * scale;
            sc[h * n_kv + j] = s;
            mx[h] = std::max(mx[h], s);
        }
    }
}

// out[h] = Σ_j p[h][j]·v_j for NH heads and DV·16 value dims, all held in registers: one pass over V.
template <int NH, int DV>
void weighted_values(const float* p, const uint16_t* v, int64_t stride, int64_t n_kv, float* out, int64_t dim) {
    __m512 a[NH][DV];
    for (int h = 0; h < NH; ++h)
        for (int c = 0; c < DV; ++c) a[h][c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < n_kv; ++j) {
        const uint16_t* vr = v + j * stride;
        __m512 pj[NH];
        for (int h = 0; h < NH; ++h) pj[h] = _mm512_set1_ps(p[h * n_kv + j]);
        for (int c = 0; c < DV; ++c) {
            const __m512 vf = load_h16(vr + 16 * c);
            for (int h = 0; h < NH; ++h) a[h][c] = _mm512_fmadd_ps(pj[h], vf, a[h][c]);
        }
    }
    for (int h = 0; h < NH; ++h)
        for (int c = 0; c < DV; ++c) _mm512_storeu_ps(out + h * dim + 16 * c, a[h][c]);
}

template <int NH>
void values(const float* p, const uint16_t* v, int64_t stride, int64_t n_kv, float* out, int64_t dim) {
    switch (dim / 16) {
        case 1: return weighted_values<NH, 1>(p, v, stride, n_kv, out, dim);
        case 2: return weighted_values<NH, 2>(p, v, stride, n_kv, out, dim);
        case 3: return weighted_values<NH, 3>(p, v, stride, n_kv, out, dim);
        case 4: return weighted_values<NH, 4>(p, v, stride, n_kv, out, dim);
        case 5: return weighted_values<NH, 5>(p, v, stride, n_kv, out, dim);
        case 6: return weighted_values<NH, 6>(p, v, stride, n_kv, out, dim);
        case 7: return weighted_values<NH, 7>(p, v, stride, n_kv, out, dim);
        default: return weighted_values<NH, 8>(p, v, stride, n_kv, out, dim);
    }
}

}  // namespace

void attend_group(const float* q, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                  int64_t n_kv, float scale, float* scratch, float* out) {
    for (int h = 0; h < n_q; h += 2) {
        const float* qh = q + h * dim;
        float* oh = out + h * dim;
        float mx[2];
        if (h + 1 < n_q) {
            scores<2>(qh, dim, k, stride, n_kv, scale, scratch, mx);
            avx2::softmax_f16_row(scratch, n_kv, mx[0]);
            avx2::softmax_f16_row(scratch + n_kv, n_kv, mx[1]);
            values<2>(scratch, v, stride, n_kv, oh, dim);
        } else {
            scores<1>(qh, dim, k, stride, n_kv, scale, scratch, mx);
            avx2::softmax_f16_row(scratch, n_kv, mx[0]);
            values<1>(scratch, v, stride, n_kv, oh, dim);
        }
    }
}

}  // namespace bonsai::cpu::detail::avx512
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail::avx512 {
// Not an x86 build: active_isa() is never Avx512 there.
void attend_group(const float*, int, int64_t, const uint16_t*, const uint16_t*, int64_t, int64_t, float, float*, float*) {
    throw Error("attention: AVX-512 body called on a build without it");
}
}  // namespace bonsai::cpu::detail::avx512
#endif
