#pragma once
// The AVX2 bodies of row_ops.h (row_ops_avx2.cpp; call only when active_isa() >= Isa::Avx2) and the
// AVX-512 attention body (row_ops_avx512.cpp, below).
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bonsai::cpu::detail {

// The Q8_0 activation scales of one group of n <= 4 blocks (128 elements, a Q1_0 weight group): `d`
// holds each block's amax/127 rounded through fp16 (llama.cpp's scale) and `id` its quantization
// multiplier 127/amax; both are changed in place so that every d is a whole multiple of the group's unit
// u = 2^(e - 15), d_max = f·2^e with f in [0.5, 1). A d of at least d_max/16 already is one (11
// significant bits), so only blocks 16× quieter than their group's loudest change: rounded up to the
// next multiple (a coarser scale, |q| stays <= 127). Why: the AVX2 R32L kernel then scales the 16-bit
// sums of two blocks by the integers d/u in one vpmaddwd, exactly (kernels_avx2_table.cpp).
inline void q8_0_group_units(const float* amax, float* d, float* id, int n) {
    float dmax = 0.0f;
    for (int i = 0; i < n; ++i) dmax = std::max(dmax, d[i]);
    if (!(dmax > 0.0f) || !std::isfinite(dmax)) return;
    int e = 0;
    std::frexp(dmax, &e);
    const float u = std::ldexp(1.0f, e - 15);
    for (int i = 0; i < n; ++i) {
        const float k = d[i] / u;  // exact: u is a power of two
        if (k == std::floor(k)) continue;
        d[i] = std::ceil(k) * u;
        id[i] = std::min(1.0f / d[i], 127.0f / amax[i]);
    }
}

// The softmax exponential of the SIMD attention bodies (exp_neg_ps in row_ops_avx2.cpp, exp_neg_ps8 in
// row_ops_avx512.cpp: the same steps at 4 and 8 double lanes, so the same floats): x = n·ln2 + r with
// n = round(x·log2 e) and a two-part ln2, then the degree-11 Taylor polynomial of e^r by Horner's rule
// (kExpPoly, highest degree first), times 2^n.
constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
constexpr double kExpPoly[12] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                                 1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,    1.0 / 24.0,
                                 1.0 / 6.0,        0.5,             1.0,            1.0};

// Keys ahead whose K / V rows the SIMD attention bodies prefetch. A decode step reads each KV head's
// rows once, straight from memory (the cache outgrows L3 at a few hundred positions), and with the
// hardware prefetcher alone the row conversions waited on memory: scores were ~11 % of a 512-token
// Q1_0 1.7B decode's samples on Zen 5, mostly at the K loads (2.5 % with this; tg512 +5 %).
constexpr int64_t kPrefetchKeys = 32;

// Prefetches halves [h0, h1) of row j of a cache whose rows are `stride` halves apart.
inline void prefetch_row(const uint16_t* rows, int64_t j, int64_t stride, int64_t h0, int64_t h1) {
    const char* p = reinterpret_cast<const char*>(rows + j * stride);
    for (int64_t b = 2 * h0; b < 2 * h1; b += 64) __builtin_prefetch(p + b, 0, 3);
}

}  // namespace bonsai::cpu::detail

namespace bonsai::cpu::detail::avx2 {

void attend_group(const float* q, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                  int64_t n_kv, float scale, float* scratch, float* out);
// Softmax of one score row in place given its maximum, each probability rounded through f16 (the
// numerics of attend_group; also used by the AVX-512 attention).
void softmax_f16_row(float* sc, int64_t n, float mx);
void quantize_q8_0_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums);
void quantize_q8_k_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums);
double sum_squares(const float* x, int64_t n);
void scale_mul(const float* x, float s, const float* w, float* y, int64_t n);
void silu_mul(float* g, const float* u, int64_t n);
void add_rows(float* x, const float* y, int64_t n);
uint64_t sum_u64(const uint64_t* x, int64_t n);
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);
void round_f16_row(const float* src, float* dst, int64_t n);

}  // namespace bonsai::cpu::detail::avx2

namespace bonsai::cpu::detail::avx512 {

// attend_tokens for dim a multiple of 16, at most 128 (row_ops_avx512.cpp; call only when
// active_isa() == Isa::Avx512): up to 8 query rows (tokens × heads) share each f16 K and V row
// conversion, 16-lane FMAs, value dimensions accumulated in registers.
void attend_tokens(const float* q, int n_tok, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                   int64_t n_kv, float scale, float* scratch, float* out, int64_t out_stride);

}  // namespace bonsai::cpu::detail::avx512
