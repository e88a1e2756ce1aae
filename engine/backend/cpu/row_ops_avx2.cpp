// AVX2 + FMA + F16C bodies of row_ops.h. This file alone is compiled with those flags (CMakeLists.txt);
// row_ops.cpp calls into it only when cpu_features reports AVX2. 256-bit vectors are used on AVX-512
// machines too: these rows are short and the work is small next to the matmuls.
#include "backend/cpu/row_ops_detail.h"
#include "backend/cpu/avx2_common.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace bonsai::cpu::detail::avx2 {
namespace {

using namespace avx2_common;

inline __m256 load_h8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

inline __m256 abs_ps(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

// e^x for x in float range, Cephes-style: 2^n · p(r) with r = x - n·ln2 (two-part ln2); ~2 ulp.
inline __m256 exp_ps(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// Sum of each of four vectors, as one __m128 {Σa0, Σa1, Σa2, Σa3}: one reduction tree for four dot
// products instead of four horizontal sums.
inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// Scores of NH query heads against positions j0..j0+3: the four K rows are each converted once per
// 8 dims and shared by the heads; the NH·4 products accumulate vertically (independent FMA chains) and
// are reduced together at the end. Writes sc[h·n_kv + j0 + 0..3] and raises mx[h].
template <int NH>
inline void scores_block4(const float* q, int64_t dim, const uint16_t* k, int64_t stride, int64_t j0, int64_t n_kv,
                          __m128 vscale, float* sc, __m128* mx) {
    const uint16_t* k0 = k + j0 * stride;
    const uint16_t* k1 = k0 + stride;
    const uint16_t* k2 = k1 + stride;
    const uint16_t* k3 = k2 + stride;
    __m256 a[NH][4];
    for (int h = 0; h < NH; ++h)
        for (int c = 0; c < 4; ++c) a[h][c] = _mm256_setzero_ps();
    for (int64_t d = 0; d < dim; d += 8) {
        const __m256 f0 = load_h8(k0 + d), f1 = load_h8(k1 + d), f2 = load_h8(k2 + d), f3 = load_h8(k3 + d);
        for (int h = 0; h < NH; ++h) {
            const __m256 qv = _mm256_loadu_ps(q + h * dim + d);
            a[h][0] = _mm256_fmadd_ps(qv, f0, a[h][0]);
            a[h][1] = _mm256_fmadd_ps(qv, f1, a[h][1]);
            a[h][2] = _mm256_fmadd_ps(qv, f2, a[h][2]);
            a[h][3] = _mm256_fmadd_ps(qv, f3, a[h][3]);
        }
    }
    for (int h = 0; h < NH; ++h) {
        const __m128 s = _mm_mul_ps(hsum4(a[h][0], a[h][1], a[h][2], a[h][3]), vscale);
        _mm_storeu_ps(sc + h * n_kv + j0, s);
        mx[h] = _mm_max_ps(mx[h], s);
    }
}

// Scores of NH query heads against every position, times `scale`; mx[h] receives each row's maximum.
// Blocks of four positions, then single positions (one horizontal sum each) for the remainder.
template <int NH>
void scores(const float* q, int64_t dim, const uint16_t* k, int64_t stride, int64_t n_kv, float scale, float* sc, float* mx) {
    const __m128 vscale = _mm_set1_ps(scale);
    __m128 m[NH];
    for (int h = 0; h < NH; ++h) m[h] = _mm_set1_ps(-std::numeric_limits<float>::infinity());
    int64_t j = 0;
    for (; j + 4 <= n_kv; j += 4) {
        for (int64_t c = 0; c < 4 && j + kPrefetchKeys + c < n_kv; ++c) prefetch_row(k, j + kPrefetchKeys + c, stride, 0, dim);
        scores_block4<NH>(q, dim, k, stride, j, n_kv, vscale, sc, m);
    }
    for (int h = 0; h < NH; ++h) {
        __m128 t = _mm_max_ps(m[h], _mm_movehl_ps(m[h], m[h]));
        t = _mm_max_ss(t, _mm_movehdup_ps(t));
        mx[h] = _mm_cvtss_f32(t);
    }
    for (; j < n_kv; ++j) {
        const uint16_t* kr = k + j * stride;
        __m256 a[NH][2];
        for (int h = 0; h < NH; ++h) a[h][0] = a[h][1] = _mm256_setzero_ps();
        int64_t d = 0;
        for (; d + 16 <= dim; d += 16) {
            const __m256 f0 = load_h8(kr + d), f1 = load_h8(kr + d + 8);
            for (int h = 0; h < NH; ++h) {
                a[h][0] = _mm256_fmadd_ps(_mm256_loadu_ps(q + h * dim + d), f0, a[h][0]);
                a[h][1] = _mm256_fmadd_ps(_mm256_loadu_ps(q + h * dim + d + 8), f1, a[h][1]);
            }
        }
        for (; d < dim; d += 8) {
            const __m256 f0 = load_h8(kr + d);
            for (int h = 0; h < NH; ++h) a[h][0] = _mm256_fmadd_ps(_mm256_loadu_ps(q + h * dim + d), f0, a[h][0]);
        }
        for (int h = 0; h < NH; ++h) {
            const float s = hsum(_mm256_add_ps(a[h][0], a[h][1])) * scale;
            sc[h * n_kv + j] = s;
            mx[h] = std::max(mx[h], s);
        }
    }
}

// out[h] = Σ_j p[h][j]·v_j for NH heads, 32 output dims at a time held in registers.
template <int NH>
void weighted_values(const float* p, int64_t dim, const uint16_t* v, int64_t stride, int64_t n_kv, float* out) {
    int64_t d = 0;
    for (; d + 32 <= dim; d += 32) {
        __m256 a[NH][4];
        for (int h = 0; h < NH; ++h)
            for (int c = 0; c < 4; ++c) a[h][c] = _mm256_setzero_ps();
        for (int64_t j = 0; j < n_kv; ++j) {
            const uint16_t* vr = v + j * stride + d;
            if (j + kPrefetchKeys < n_kv) prefetch_row(v, j + kPrefetchKeys, stride, d, d + 32);
            __m256 pj[NH];
            for (int h = 0; h < NH; ++h) pj[h] = _mm256_broadcast_ss(p + h * n_kv + j);
            for (int c = 0; c < 4; ++c) {
                const __m256 vf = load_h8(vr + 8 * c);
                for (int h = 0; h < NH; ++h) a[h][c] = _mm256_fmadd_ps(pj[h], vf, a[h][c]);
            }
        }
        for (int h = 0; h < NH; ++h)
            for (int c = 0; c < 4; ++c) _mm256_storeu_ps(out + h * dim + d + 8 * c, a[h][c]);
    }
    for (; d < dim; d += 8) {
        __m256 a[NH];
        for (int h = 0; h < NH; ++h) a[h] = _mm256_setzero_ps();
        for (int64_t j = 0; j < n_kv; ++j) {
            const __m256 vf = load_h8(v + j * stride + d);
            for (int h = 0; h < NH; ++h) a[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + h * n_kv + j), vf, a[h]);
        }
        for (int h = 0; h < NH; ++h) _mm256_storeu_ps(out + h * dim + d, a[h]);
    }
}

// e^x for four non-positive floats (widened to double), rounded once to float. The double-precision
// reduction (x = n·ln2 + r, |r| <= ln2/2, two-part ln2) and degree-11 Taylor polynomial are accurate to
// ~1e-15 relative, so the float result is the correctly rounded e^x, as glibc's expf (which the scalar
// body calls) returns it, except within ~1e-15 of a rounding boundary. Inputs below -104 give 0, as
// float e^x does (it underflows below ~-103.97); float subnormals round correctly in the final convert.
inline __m128 exp_neg_ps(__m128 xf) {
    __m256d x = _mm256_max_pd(_mm256_set1_pd(-104.0), _mm256_cvtps_pd(xf));  // NaN passes through
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Hi), x);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Lo), r);
    __m256d p = _mm256_set1_pd(kExpPoly[0]);
    for (int i = 1; i < 12; ++i) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kExpPoly[i]));
    // 2^n built in the exponent field (n >= -151, well inside double range).
    const __m256i e = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), _mm256_set1_epi64x(1023)), 52);
    return _mm256_cvtpd_ps(_mm256_mul_pd(p, _mm256_castsi256_pd(e)));
}

// Softmax of one score row in place given its maximum, then each probability rounded through f16 (as
// llama.cpp stores KQ in the cache type before multiplying with V). The float exponentials are summed
// in double, as in the scalar body (four partial sums: only the order differs).
void softmax_f16(float* sc, int64_t n, float mx) {
    const __m128 vm = _mm_set1_ps(mx);
    __m256d sum4 = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const __m128 e = exp_neg_ps(_mm_sub_ps(_mm_loadu_ps(sc + j), vm));
        _mm_storeu_ps(sc + j, e);
        sum4 = _mm256_add_pd(sum4, _mm256_cvtps_pd(e));
    }
    alignas(32) double t[4];
    _mm256_store_pd(t, sum4);
    double sum = (t[0] + t[1]) + (t[2] + t[3]);
    for (; j < n; ++j) {
        const float e = _mm_cvtss_f32(exp_neg_ps(_mm_set_ss(sc[j] - mx)));
        sc[j] = e;
        sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
    const __m256 vi = _mm256_set1_ps(inv);
    for (j = 0; j + 8 <= n; j += 8)
        _mm256_storeu_ps(sc + j, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(sc + j), vi), 0)));
    for (; j < n; ++j) _mm_store_ss(sc + j, _mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(sc[j] * inv), 0)));
}

}  // namespace

void softmax_f16_row(float* sc, int64_t n, float mx) { softmax_f16(sc, n, mx); }

void attend_group(const float* q, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                  int64_t n_kv, float scale, float* scratch, float* out) {
    for (int h = 0; h < n_q; h += 2) {
        const float* qh = q + h * dim;
        float* oh = out + h * dim;
        float mx[2];
        if (h + 1 < n_q) {
            scores<2>(qh, dim, k, stride, n_kv, scale, scratch, mx);
            softmax_f16(scratch, n_kv, mx[0]);
            softmax_f16(scratch + n_kv, n_kv, mx[1]);
            weighted_values<2>(scratch, dim, v, stride, n_kv, oh);
        } else {
            scores<1>(qh, dim, k, stride, n_kv, scale, scratch, mx);
            softmax_f16(scratch, n_kv, mx[0]);
            weighted_values<1>(scratch, dim, v, stride, n_kv, oh);
        }
    }
}

void quantize_q8_0_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums) {
    for (int64_t b0 = 0; b0 < n / 32; b0 += 4) {  // groups of 4 blocks (q8_0_group_units)
        const int nb = static_cast<int>(std::min<int64_t>(4, n / 32 - b0));
        float amax[4] = {}, d[4] = {}, id[4] = {};
        for (int i = 0; i < nb; ++i) {
            const float* xb = x + 32 * (b0 + i);
            const __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8), v2 = _mm256_loadu_ps(xb + 16),
                         v3 = _mm256_loadu_ps(xb + 24);
            amax[i] = hmax(_mm256_max_ps(_mm256_max_ps(abs_ps(v0), abs_ps(v1)), _mm256_max_ps(abs_ps(v2), abs_ps(v3))));
            d[i] = _cvtsh_ss(_cvtss_sh(amax[i] / 127.0f, 0));
            id[i] = amax[i] != 0.0f ? 127.0f / amax[i] : 0.0f;
        }
        q8_0_group_units(amax, d, id, nb);
        for (int i = 0; i < nb; ++i) {
            const float* xb = x + 32 * (b0 + i);
            uint8_t* o = out + 36 * (b0 + i);
            std::memcpy(o, &d[i], 4);
            const __m256 vid = _mm256_set1_ps(id[i]);
            constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
            const __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(xb), vid), kRound));
            const __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(xb + 8), vid), kRound));
            const __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(xb + 16), vid), kRound));
            const __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(xb + 24), vid), kRound));
            if (sums) sums[b0 + i] = hsum_i32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
            // packs interleave 128-bit lanes; the final permute restores element order. |q| <= 127 by
            // construction (id <= 127/amax), so the saturating packs never clip.
            const __m256i w = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 4),
                                _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
        }
    }
}

void quantize_q8_k_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums) {
    for (int64_t b = 0; b < n / 256; ++b, x += 256, out += 292) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < 256; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + j)));
        const float amax = hmax(m);
        if (amax == 0.0f) {
            std::memset(out, 0, 292);
            if (sums) sums[b] = 0;
            continue;
        }
        // The signed value of the first element with the largest magnitude (as the scalar loop finds it).
        float max = 0.0f;
        const __m256 va = _mm256_set1_ps(amax);
        for (int j = 0; j < 256; j += 8) {
            const int bits = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + j)), va, _CMP_EQ_OQ));
            if (bits) {
                max = x[j + __builtin_ctz(static_cast<unsigned>(bits))];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i cap = _mm256_set1_epi32(127);
        constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
        int32_t total = 0;
        for (int g = 0; g < 16; ++g) {
            const __m256i i0 = _mm256_min_epi32(
                cap, _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 16 * g)), kRound)));
            const __m256i i1 = _mm256_min_epi32(
                cap, _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 16 * g + 8)), kRound)));
            const int s = hsum_i32(_mm256_add_epi32(i0, i1));
            const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(i0), _mm256_extracti128_si256(i0, 1));
            const __m128i w16b = _mm_packs_epi32(_mm256_castsi256_si128(i1), _mm256_extracti128_si256(i1, 1));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 + 16 * g), _mm_packs_epi16(w16, w16b));
            const int16_t s16 = static_cast<int16_t>(s);
            std::memcpy(out + 260 + 2 * g, &s16, 2);
            total += s;
        }
        const float d = 1.0f / iscale;
        std::memcpy(out, &d, 4);
        if (sums) sums[b] = total;
    }
}

double sum_squares(const float* x, int64_t n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 sq = _mm256_mul_ps(v, v);
        a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
        a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
    }
    alignas(32) double t[4];
    _mm256_store_pd(t, _mm256_add_pd(a0, a1));
    double sum = (t[0] + t[1]) + (t[2] + t[3]);
    for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
    return sum;
}

void scale_mul(const float* x, float s, const float* w, float* y, int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    if (w) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
        for (; i < n; ++i) y[i] = (x[i] * s) * w[i];
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        for (; i < n; ++i) y[i] = x[i] * s;
    }
}

void silu_mul(float* g, const float* u, int64_t n) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; ++i) g[i] = (g[i] / (1.0f + std::exp(-g[i]))) * u[i];
}

void add_rows(float* x, const float* y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) x[i] += y[i];
}

uint64_t sum_u64(const uint64_t* x, int64_t n) {
    // Four independent 256-bit chains, 128 bytes per iteration.
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 4)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 12)));
    }
    alignas(32) uint64_t l[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(l), _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
    uint64_t s = l[0] + l[1] + l[2] + l[3];
    for (; i < n; ++i) s += x[i];
    return s;
}

void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), 0));
    for (; i < n; ++i) dst[i] = static_cast<uint16_t>(_cvtss_sh(src[i], 0));
}

void round_f16_row(const float* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(src + i), 0)));
    for (; i < n; ++i) dst[i] = _cvtsh_ss(_cvtss_sh(src[i], 0));
}

}  // namespace bonsai::cpu::detail::avx2
#else
#include <stdexcept>
namespace bonsai::cpu::detail::avx2 {
// Not an x86 build: row_ops.cpp never selects these (active_isa() is Scalar).
[[noreturn]] static void unavailable() { throw std::logic_error("AVX2 row ops are not built for this CPU"); }
void attend_group(const float*, int, int64_t, const uint16_t*, const uint16_t*, int64_t, int64_t, float, float*, float*) { unavailable(); }
void quantize_q8_0_blocks(const float*, uint8_t*, int64_t, int32_t*) { unavailable(); }
void quantize_q8_k_blocks(const float*, uint8_t*, int64_t, int32_t*) { unavailable(); }
double sum_squares(const float*, int64_t) { unavailable(); }
void scale_mul(const float*, float, const float*, float*, int64_t) { unavailable(); }
void silu_mul(float*, const float*, int64_t) { unavailable(); }
void add_rows(float*, const float*, int64_t) { unavailable(); }
uint64_t sum_u64(const uint64_t*, int64_t) { unavailable(); }
void f32_to_f16_row(const float*, uint16_t*, int64_t) { unavailable(); }
void round_f16_row(const float*, float*, int64_t) { unavailable(); }
}  // namespace bonsai::cpu::detail::avx2
#endif
