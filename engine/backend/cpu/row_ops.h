#pragma once
// Vectorized per-row operations of the forward pass (attention against the f16 KV cache, activation
// quantization, RMSNorm sums, SiLU gating). Each function has an AVX2+FMA+F16C body (row_ops_avx2.cpp,
// the only file built with those flags; AVX-512 machines run it too) and a scalar body (row_ops.cpp),
// chosen at run time from active_isa(). Both follow the numerics documented in model/layers.h and
// matmul.h exactly, except for float summation order (and SiLU's exp, see silu_mul).
#include <cstdint>

namespace bonsai::cpu {

// Attention of `n_q` query heads that share one KV head (GQA group), for one query token.
//  q:       n_q rows of `dim` floats, already rounded through f16 (llama.cpp rounds Q to the cache type).
//  k, v:    f16 cache rows; position j of this KV head starts at k + j·stride (v likewise).
//  n_kv:    positions 0..n_kv-1 are attended (the caller applies causality).
//  scale:   1/sqrt(dim), applied to each score before the softmax.
//  scratch: at least n_q·n_kv floats.
//  out:     n_q rows of `dim` floats: Σ_j f16(p_j)·v_j with p the softmax (max-subtracted, sum in double).
// `dim` must be a multiple of 8 on the SIMD path (it falls back to scalar otherwise). The SIMD bodies
// take e^x in double precision rounded to float (the correctly rounded value, which the scalar body's
// expf also returns but for rare near-ties).
void attend_group(const float* q, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                  int64_t n_kv, float scale, float* scratch, float* out);

// attend_group for `n_tok` consecutive query tokens of one sequence against the same KV head: token i
// (0-based) has its n_q rows at q + i·n_q·dim and attends positions 0..n_kv+i-1; its output rows go to
// out + i·out_stride. scratch: at least n_tok·n_q·(n_kv + n_tok - 1) floats. Each row's result is the
// one attend_group gives it alone (the AVX-512 body shares every K/V row conversion among up to 4 rows).
void attend_tokens(const float* q, int n_tok, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                   int64_t n_kv, float scale, float* scratch, float* out, int64_t out_stride);

// llama.cpp's Q8_0 activation blocks (36 bytes: f32 scale already rounded through f16, 32 int8) for n
// floats (n % 32 == 0), written to `out`. When `sums` is not null, sums[b] = Σ q of block b.
void quantize_q8_0_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums);

// llama.cpp's Q8_K activation blocks (292 bytes: f32 scale, 256 int8, 16 int16 partial sums) for n
// floats (n % 256 == 0). When `sums` is not null, sums[b] = Σ q of block b.
void quantize_q8_k_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums);

// Σ x[i]² with float products accumulated in double (RMSNorm's statistic).
double sum_squares(const float* x, int64_t n);

// y[i] = x[i]·s·w[i] (w == nullptr: x[i]·s). y may alias x.
void scale_mul(const float* x, float s, const float* w, float* y, int64_t n);

// g[i] = g[i]/(1 + e^(-g[i])) · u[i]. The SIMD body uses a polynomial exp accurate to ~2 ulp, as
// llama.cpp's own vectorized SiLU does.
void silu_mul(float* g, const float* u, int64_t n);

// x[i] += y[i].
void add_rows(float* x, const float* y, int64_t n);

// Σ x[i] mod 2^64, read with the widest loads the CPU has: a memory read stream at full speed (the
// bench's bandwidth measurement; scalar 8-byte loads did not saturate memory on a 2-core Zen 5).
uint64_t sum_u64(const uint64_t* x, int64_t n);

// dst[i] = f16(src[i]) (round to nearest even), for the KV cache stores.
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);

// dst[i] = float(f16(src[i])) (round to nearest even): values rounded to the cache type and widened
// back (attention's Q). dst may alias src.
void round_f16_row(const float* src, float* dst, int64_t n);

}  // namespace bonsai::cpu
