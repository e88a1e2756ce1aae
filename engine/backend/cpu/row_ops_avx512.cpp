// AVX-512 body of row_ops.h's attention (attend_tokens, attend_group); compiled with AVX-512 flags
// (CMakeLists.txt) and called by row_ops.cpp only when active_isa() is Avx512. The softmax has the AVX2
// body's numerics (8 lanes instead of 4: only the order of the double sum of the exponentials differs).
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

// Rows per pass of attend_tokens: up to 4 query rows (tokens × heads of one KV head) share each K and V
// row conversion, 4 keys × 4 rows (scores) or 4 rows × 64 value dims (values) of accumulators: 8 loads per
// 16 FMAs. (8 rows × 2 keys / 2 × 16 dims used more time: 10 loads per 16 FMAs; on Zen 4 a 1.7B pp512
// spent 5.9 % of its time in attention with one token's 2 heads per pass, 5.7 % with 8 rows, 5.3 % with
// 4.) Attention runs at ~75 % of the FMA peak there: what is left is arithmetic, not conversion.
constexpr int kMaxRows = 4;

// sc[r·ld + j] = scale·(q_r·k_j) for R rows (q rows `dim` apart) and keys [0, n), KB keys per pass. Every
// score is reduced by hsum4's tree for its own vector, whatever shares the pass with it, so a row's
// scores do not depend on the tile it is computed in (logits independent of the thread count).
template <int R>
void scores_rows(const float* q, int64_t dim, const uint16_t* k, int64_t stride, int64_t n, float scale, float* sc, int64_t ld) {
    constexpr int KB = 4, NV = R * KB;
    const __m128 vscale = _mm_set1_ps(scale);
    for (int64_t j = 0; j < n; j += KB) {
        const uint16_t* kr[KB];
        for (int c = 0; c < KB; ++c) kr[c] = k + std::min(j + c, n - 1) * stride;  // a short last pass repeats key n-1
        for (int c = 0; c < KB && j + kPrefetchKeys + c < n; ++c) prefetch_row(k, j + kPrefetchKeys + c, stride, 0, dim);
        __m512 a[NV];
        for (int i = 0; i < NV; ++i) a[i] = _mm512_setzero_ps();
        for (int64_t d = 0; d < dim; d += 16) {
            __m512 f[KB];
            for (int c = 0; c < KB; ++c) f[c] = load_h16(kr[c] + d);
            for (int r = 0; r < R; ++r) {
                const __m512 qv = _mm512_loadu_ps(q + r * dim + d);
                for (int c = 0; c < KB; ++c) a[r * KB + c] = _mm512_fmadd_ps(qv, f[c], a[r * KB + c]);
            }
        }
        for (int i = 0; i < NV; i += 4) {
            alignas(16) float s[4];
            _mm_store_ps(s, _mm_mul_ps(hsum4(a[i], a[i + 1], a[i + 2], a[i + 3]), vscale));
            for (int e = 0; e < 4 && i + e < NV; ++e) {
                const int r = (i + e) / KB, c = (i + e) % KB;
                if (j + c < n) sc[r * ld + j + c] = s[e];
            }
        }
    }
}

// e^x of 8 floats x ≤ 0 as exp_neg_ps in row_ops_avx2.cpp computes them (the same double-precision steps,
// row_ops_detail.h, so the same floats), 8 lanes at a time: the exponentials were ~8 % of a 4096-token
// prompt's time at 4 lanes.
inline __m256 exp_neg_ps8(__m256 xf) {
    const __m512d x = _mm512_max_pd(_mm512_set1_pd(-104.0), _mm512_cvtps_pd(xf));  // NaN passes through
    const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Hi), x);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Lo), r);
    __m512d p = _mm512_set1_pd(kExpPoly[0]);
    for (int i = 1; i < 12; ++i) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(kExpPoly[i]));
    // 2^n built in the exponent field (n >= -151, well inside double range).
    const __m512i e = _mm512_slli_epi64(_mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_cvtpd_epi32(n)), _mm512_set1_epi64(1023)), 52);
    return _mm512_cvtpd_ps(_mm512_mul_pd(p, _mm512_castsi512_pd(e)));
}

// avx2::softmax_f16_row's numerics (exponentials, their sum in double, probabilities rounded through
// f16) with 8 exponentials per step and a masked tail; the double sum is accumulated in 8 lanes.
void softmax_f16_row8(float* sc, int64_t n, float mx) {
    const __m256 vm = _mm256_set1_ps(mx);
    __m512d sum8 = _mm512_setzero_pd();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 e = exp_neg_ps8(_mm256_sub_ps(_mm256_loadu_ps(sc + j), vm));
        _mm256_storeu_ps(sc + j, e);
        sum8 = _mm512_add_pd(sum8, _mm512_cvtps_pd(e));
    }
    if (j < n) {
        const auto tail = static_cast<__mmask8>((1u << (n - j)) - 1);
        const __m256 e = exp_neg_ps8(_mm256_sub_ps(_mm256_maskz_loadu_ps(tail, sc + j), vm));
        _mm256_mask_storeu_ps(sc + j, tail, e);
        sum8 = _mm512_add_pd(sum8, _mm512_maskz_cvtps_pd(tail, e));
    }
    const float inv = static_cast<float>(1.0 / _mm512_reduce_add_pd(sum8));
    const __m512 vi = _mm512_set1_ps(inv);
    for (j = 0; j + 16 <= n; j += 16)
        _mm512_storeu_ps(sc + j, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_mul_ps(_mm512_loadu_ps(sc + j), vi), 0)));
    if (j < n) {
        const auto tail = static_cast<__mmask16>((1u << (n - j)) - 1);
        const __m512 p = _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, sc + j), vi), 0));
        _mm512_mask_storeu_ps(sc + j, tail, p);
    }
}

float row_max(const float* s, int64_t n) {
    __m512 m = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(s + j));
    if (j < n) {
        const auto tail = static_cast<__mmask16>((1u << (n - j)) - 1);
        m = _mm512_mask_max_ps(m, tail, m, _mm512_maskz_loadu_ps(tail, s + j));
    }
    return _mm512_reduce_max_ps(m);
}

// out[r] = Σ_{j < nkv[r]} p[r·ld + j]·v_j for R rows (nkv non-decreasing), DC vectors of 16 value dims
// per pass over V, accumulated in key order (so again independent of the tile).
template <int R, int DC>
void values_rows(const float* p, int64_t ld, const int64_t* nkv, const uint16_t* v, int64_t stride, float* const* out, int64_t dim) {
    const int64_t nv = dim / 16;
    for (int64_t c0 = 0; c0 < nv; c0 += DC) {
        const int64_t nc = std::min<int64_t>(DC, nv - c0);
        __m512 a[R][DC];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < DC; ++c) a[r][c] = _mm512_setzero_ps();
        // Key j for rows [r_begin, R): the rows before r_begin stop earlier (causal).
        const auto step = [&](int64_t j, int r_begin) {
            const uint16_t* vr = v + j * stride + 16 * c0;
            if (j + kPrefetchKeys < nkv[R - 1]) prefetch_row(v, j + kPrefetchKeys, stride, 16 * c0, 16 * (c0 + nc));
            __m512 vf[DC];
            for (int c = 0; c < DC; ++c) vf[c] = c < nc ? load_h16(vr + 16 * c) : _mm512_setzero_ps();
            for (int r = 0; r < R; ++r) {  // (all R unrolled, so that a[][] stays in registers)
                if (r < r_begin) continue;
                const __m512 pj = _mm512_set1_ps(p[r * ld + j]);
                for (int c = 0; c < DC; ++c) a[r][c] = _mm512_fmadd_ps(pj, vf[c], a[r][c]);
            }
        };
        int64_t j = 0;
        for (; j < nkv[0]; ++j) step(j, 0);
        for (int r = 1; r < R; ++r)
            for (; j < nkv[r]; ++j) step(j, r);
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < DC; ++c)
                if (c < nc) _mm512_storeu_ps(out[r] + 16 * (c0 + c), a[r][c]);
    }
}

// Rows [0, R) of attend_tokens: scores, each row's softmax over its own keys, values.
template <int R>
void attend_rows(const float* q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride, const int64_t* nkv,
                 float scale, float* sc, float* const* out) {
    constexpr int DC = R <= 2 ? 8 : 4;  // R·DC accumulators ≤ 16
    const int64_t n = nkv[R - 1], ld = n;
    scores_rows<R>(q, dim, k, stride, n, scale, sc, ld);
    for (int r = 0; r < R; ++r) softmax_f16_row8(sc + r * ld, nkv[r], row_max(sc + r * ld, nkv[r]));
    values_rows<R, DC>(sc, ld, nkv, v, stride, out, dim);
}

}  // namespace

void attend_tokens(const float* q, int n_tok, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                   int64_t n_kv, float scale, float* scratch, float* out, int64_t out_stride) {
    const int n_rows = n_tok * n_q;
    for (int r0 = 0; r0 < n_rows; r0 += kMaxRows) {
        const int nr = std::min(kMaxRows, n_rows - r0);
        int64_t nkv[kMaxRows];
        float* o[kMaxRows];
        for (int i = 0; i < nr; ++i) {
            const int r = r0 + i, t = r / n_q, h = r % n_q;
            nkv[i] = n_kv + t;
            o[i] = out + t * out_stride + h * dim;
        }
        const float* qr = q + static_cast<int64_t>(r0) * dim;
        switch (nr) {
            case 1: attend_rows<1>(qr, dim, k, v, stride, nkv, scale, scratch, o); break;
            case 2: attend_rows<2>(qr, dim, k, v, stride, nkv, scale, scratch, o); break;
            case 3: attend_rows<3>(qr, dim, k, v, stride, nkv, scale, scratch, o); break;
            default: attend_rows<4>(qr, dim, k, v, stride, nkv, scale, scratch, o); break;
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
