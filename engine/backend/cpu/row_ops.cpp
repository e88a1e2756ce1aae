// Scalar bodies of row_ops.h and the run-time choice between them and the AVX2 (and, for attention,
// AVX-512) bodies.
#include "backend/cpu/row_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/row_ops_detail.h"
#include "bonsai/tensor_type.h"

namespace bonsai::cpu {
namespace {

bool use_avx2() { return active_isa() >= Isa::Avx2; }

// Round half to even, as _mm256_round_ps(_MM_FROUND_TO_NEAREST_INT) and ggml's nearest_int do.
inline int round_even(float x) { return static_cast<int>(std::nearbyint(x)); }

void attend_group_scalar(const float* q, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                         int64_t n_kv, float scale, float* scratch, float* out) {
    for (int h = 0; h < n_q; ++h) {
        const float* qh = q + h * dim;
        float* sc = scratch + h * n_kv;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < n_kv; ++j) {
            const uint16_t* kr = k + j * stride;
            float s = 0.0f;
            for (int64_t d = 0; d < dim; ++d) s += qh[d] * fp16_to_fp32(kr[d]);
            s *= scale;
            sc[j] = s;
            mx = std::max(mx, s);
        }
        double sum = 0.0;
        for (int64_t j = 0; j < n_kv; ++j) {
            const float e = std::exp(sc[j] - mx);
            sc[j] = e;
            sum += e;
        }
        const float inv = static_cast<float>(1.0 / sum);
        float* o = out + h * dim;
        std::fill(o, o + dim, 0.0f);
        for (int64_t j = 0; j < n_kv; ++j) {
            const float p = fp16_to_fp32(fp32_to_fp16(sc[j] * inv));
            const uint16_t* vr = v + j * stride;
            for (int64_t d = 0; d < dim; ++d) o[d] += p * fp16_to_fp32(vr[d]);
        }
    }
}

void quantize_q8_0_scalar(const float* x, uint8_t* out, int64_t n, int32_t* sums) {
    for (int64_t b0 = 0; b0 < n / 32; b0 += 4) {  // groups of 4 blocks (detail::q8_0_group_units)
        const int nb = static_cast<int>(std::min<int64_t>(4, n / 32 - b0));
        float amax[4] = {}, d[4] = {}, id[4] = {};
        for (int i = 0; i < nb; ++i) {
            const float* xb = x + 32 * (b0 + i);
            for (int j = 0; j < 32; ++j) amax[i] = std::max(amax[i], std::fabs(xb[j]));
            d[i] = fp16_to_fp32(fp32_to_fp16(amax[i] / 127.0f));
            id[i] = amax[i] != 0.0f ? 127.0f / amax[i] : 0.0f;
        }
        detail::q8_0_group_units(amax, d, id, nb);
        for (int i = 0; i < nb; ++i) {
            const float* xb = x + 32 * (b0 + i);
            uint8_t* o = out + 36 * (b0 + i);
            std::memcpy(o, &d[i], 4);
            int32_t sum = 0;
            for (int j = 0; j < 32; ++j) {
                const int q = std::clamp(round_even(xb[j] * id[i]), -127, 127);
                o[4 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
                sum += q;
            }
            if (sums) sums[b0 + i] = sum;
        }
    }
}

void quantize_q8_k_scalar(const float* x, uint8_t* out, int64_t n, int32_t* sums) {
    for (int64_t b = 0; b < n / 256; ++b, x += 256, out += 292) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 256; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            std::memset(out, 0, 292);
            if (sums) sums[b] = 0;
            continue;
        }
        const float iscale = -127.0f / max;
        int8_t* qs = reinterpret_cast<int8_t*>(out + 4);
        int32_t total = 0;
        for (int g = 0; g < 16; ++g) {
            int16_t s = 0;
            for (int i = 0; i < 16; ++i) {
                const int q = std::min(127, round_even(iscale * x[16 * g + i]));
                qs[16 * g + i] = static_cast<int8_t>(q);
                s = static_cast<int16_t>(s + q);
            }
            std::memcpy(out + 260 + 2 * g, &s, 2);
            total += s;
        }
        const float d = 1.0f / iscale;
        std::memcpy(out, &d, 4);
        if (sums) sums[b] = total;
    }
}

}  // namespace

void attend_group(const float* q, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                  int64_t n_kv, float scale, float* scratch, float* out) {
    attend_tokens(q, 1, n_q, dim, k, v, stride, n_kv, scale, scratch, out, 0);
}

void attend_tokens(const float* q, int n_tok, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                   int64_t n_kv, float scale, float* scratch, float* out, int64_t out_stride) {
    if (active_isa() == Isa::Avx512 && dim % 16 == 0 && dim <= 128)
        return detail::avx512::attend_tokens(q, n_tok, n_q, dim, k, v, stride, n_kv, scale, scratch, out, out_stride);
    for (int i = 0; i < n_tok; ++i) {
        const float* qi = q + static_cast<int64_t>(i) * n_q * dim;
        float* oi = out + i * out_stride;
        if (use_avx2() && dim % 8 == 0) {
            detail::avx2::attend_group(qi, n_q, dim, k, v, stride, n_kv + i, scale, scratch, oi);
        } else {
            attend_group_scalar(qi, n_q, dim, k, v, stride, n_kv + i, scale, scratch, oi);
        }
    }
}

void quantize_q8_0_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums) {
    if (use_avx2()) return detail::avx2::quantize_q8_0_blocks(x, out, n, sums);
    quantize_q8_0_scalar(x, out, n, sums);
}

void quantize_q8_k_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums) {
    if (use_avx2()) return detail::avx2::quantize_q8_k_blocks(x, out, n, sums);
    quantize_q8_k_scalar(x, out, n, sums);
}

double sum_squares(const float* x, int64_t n) {
    if (use_avx2()) return detail::avx2::sum_squares(x, n);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
    return sum;
}

void scale_mul(const float* x, float s, const float* w, float* y, int64_t n) {
    if (use_avx2()) return detail::avx2::scale_mul(x, s, w, y, n);
    if (w) {
        for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * s) * w[i];
    } else {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
    }
}

void silu_mul(float* g, const float* u, int64_t n) {
    if (use_avx2()) return detail::avx2::silu_mul(g, u, n);
    for (int64_t i = 0; i < n; ++i) g[i] = (g[i] / (1.0f + std::exp(-g[i]))) * u[i];
}

void add_rows(float* x, const float* y, int64_t n) {
    if (use_avx2()) return detail::avx2::add_rows(x, y, n);
    for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

uint64_t sum_u64(const uint64_t* x, int64_t n) {
    if (use_avx2()) return detail::avx2::sum_u64(x, n);
    uint64_t s0 = 0, s1 = 0;
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        s0 += x[i];
        s1 += x[i + 1];
    }
    return s0 + s1 + (i < n ? x[i] : 0);
}

void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n) {
    if (use_avx2()) return detail::avx2::f32_to_f16_row(src, dst, n);
    for (int64_t i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

void round_f16_row(const float* src, float* dst, int64_t n) {
    if (use_avx2()) return detail::avx2::round_f16_row(src, dst, n);
    for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(fp32_to_fp16(src[i]));
}

}  // namespace bonsai::cpu
