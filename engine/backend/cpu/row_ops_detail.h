#pragma once
// The AVX2 bodies of row_ops.h (row_ops_avx2.cpp). Call only when active_isa() >= Isa::Avx2.
#include <cstdint>

namespace bonsai::cpu::detail::avx2 {

void attend_group(const float* q, int n_q, int64_t dim, const uint16_t* k, const uint16_t* v, int64_t stride,
                  int64_t n_kv, float scale, float* scratch, float* out);
void quantize_q8_0_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums);
void quantize_q8_k_blocks(const float* x, uint8_t* out, int64_t n, int32_t* sums);
double sum_squares(const float* x, int64_t n);
void scale_mul(const float* x, float s, const float* w, float* y, int64_t n);
void silu_mul(float* g, const float* u, int64_t n);
void add_rows(float* x, const float* y, int64_t n);
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);
void round_f16_row(const float* src, float* dst, int64_t n);

}  // namespace bonsai::cpu::detail::avx2
