#pragma once
// Private helpers shared by the per-format reference (de)quantizers in engine/quant/.
// Every format stores little-endian fields; the engine only targets little-endian hosts (checked in
// traits.cpp), so loads and stores are plain memcpy (which also makes unaligned block fields safe).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "bonsai/tensor_type.h"

namespace bonsai::quant {

// Signatures every family implements. `n` is a multiple of the type's block size (checked by the
// dispatcher in traits.cpp before calling).
using DequantFn = void (*)(const uint8_t* src, float* dst, int64_t n);
using QuantFn = void (*)(const float* src, uint8_t* dst, int64_t n);

inline uint16_t load_u16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline float load_f32(const uint8_t* p) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
}
inline void store_f32(uint8_t* p, float v) { std::memcpy(p, &v, 4); }
// fp16 scale stored at `p`, widened to float.
inline float load_half(const uint8_t* p) { return fp16_to_fp32(load_u16(p)); }

// Largest |x| over `n` values (0 for an all-zero block). NaNs are ignored, so a NaN never becomes a scale.
inline float abs_max(const float* x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; ++j) {
        const float a = std::fabs(x[j]);
        if (amax < a) amax = a;
    }
    return amax;
}

// round-half-away-from-zero of v (C's roundf / lroundf), clamped into [lo, hi] without UB for NaN/inf
// (NaN maps to `nan_value`).
inline int round_clamp(float v, int lo, int hi, int nan_value) {
    if (std::isnan(v)) return nan_value;
    const float r = std::round(v);
    if (r < static_cast<float>(lo)) return lo;
    if (r > static_cast<float>(hi)) return hi;
    return static_cast<int>(r);
}

// One base-3 digit of a packed byte (TQ1_0 / PTQ1_0): digit n (0 = most significant) of byte b is
// ((b * 3^n mod 256) * 3) >> 8. The 8-bit wrap-around of the first product is the point of the trick.
inline int trit(uint8_t b, int n) {
    static constexpr uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
    const uint8_t shifted = static_cast<uint8_t>(b * pow3[n]);
    return (static_cast<uint16_t>(shifted) * 3) >> 8;
}
// Packs trits t[0..k-1] (0..2, first most significant) into one byte as ceil(v * 256 / 243), where v is
// the base-3 number they form, left-aligned to five digits (so 4 trits are multiplied by 3 once more).
inline uint8_t pack_trits(const int* t, int k) {
    uint32_t v = 0;
    for (int i = 0; i < k; ++i) v = v * 3 + static_cast<uint32_t>(t[i]);
    for (int i = k; i < 5; ++i) v *= 3;
    return static_cast<uint8_t>((v * 256 + 242) / 243);
}

// --- per-family entry points (defined in fp.cpp, q8_0.cpp, ...) ---
void dequant_f32(const uint8_t* src, float* dst, int64_t n);
void dequant_f16(const uint8_t* src, float* dst, int64_t n);
void dequant_bf16(const uint8_t* src, float* dst, int64_t n);
void quant_f32(const float* src, uint8_t* dst, int64_t n);
void quant_f16(const float* src, uint8_t* dst, int64_t n);
void quant_bf16(const float* src, uint8_t* dst, int64_t n);

void dequant_q8_0(const uint8_t* src, float* dst, int64_t n);
void quant_q8_0(const float* src, uint8_t* dst, int64_t n);

void dequant_q4_0(const uint8_t* src, float* dst, int64_t n);
void quant_q4_0(const float* src, uint8_t* dst, int64_t n);

void dequant_q4_k(const uint8_t* src, float* dst, int64_t n);
void dequant_q6_k(const uint8_t* src, float* dst, int64_t n);

void dequant_q1_0(const uint8_t* src, float* dst, int64_t n);
void quant_q1_0(const float* src, uint8_t* dst, int64_t n);

void dequant_q2_0(const uint8_t* src, float* dst, int64_t n);
void quant_q2_0(const float* src, uint8_t* dst, int64_t n);
void dequant_pq2_0(const uint8_t* src, float* dst, int64_t n);
void quant_pq2_0(const float* src, uint8_t* dst, int64_t n);

void dequant_ptq1_0(const uint8_t* src, float* dst, int64_t n);
void quant_ptq1_0(const float* src, uint8_t* dst, int64_t n);

void dequant_tq1_0(const uint8_t* src, float* dst, int64_t n);
void quant_tq1_0(const float* src, uint8_t* dst, int64_t n);
void dequant_tq2_0(const uint8_t* src, float* dst, int64_t n);
void quant_tq2_0(const float* src, uint8_t* dst, int64_t n);

// I2_S works on whole tensors: n elements of codes, then the float32 scale at byte n/4.
void dequant_i2_s(const uint8_t* src, float* dst, int64_t n);
void quant_i2_s(const float* src, uint8_t* dst, int64_t n);

}  // namespace bonsai::quant
