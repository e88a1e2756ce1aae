// I2_S (microsoft/BitNet fork type 36, formats.md §2.3.10): ternary codes for the WHOLE tensor, then one
// float32 per-tensor scale at byte n/4, then padding up to n/4 + 32 bytes.
// Codes are grouped in blocks of 128 elements (32 bytes): element j of a block is in byte j % 32 at bit
// 6 - 2*(j / 32) (MSB-first groups). Code 0 -> -1, 1 -> 0, 2 -> +1 (3 decodes as +2), times the scale.
// Quantizer (the fork's): scale = max|w| over the tensor; code 1 if |w| < 1e-6, else 2 if w > 0, else 0.
#include "quant/quant_detail.h"

namespace bonsai::quant {

void dequant_i2_s(const uint8_t* src, float* dst, int64_t n) {
    const float scale = load_f32(src + n / 4);
    for (int64_t e = 0; e < n; ++e) {
        const int64_t block = e / 128;
        const int j = static_cast<int>(e % 128);
        const int q = (src[block * 32 + j % 32] >> (6 - 2 * (j / 32))) & 3;
        dst[e] = static_cast<float>(q - 1) * scale;
    }
}

void quant_i2_s(const float* src, uint8_t* dst, int64_t n) {
    float scale = 0.0f;
    for (int64_t e = 0; e < n; ++e) {
        const float a = std::fabs(src[e]);
        if (scale < a) scale = a;
    }
    for (int64_t i = 0; i < n / 4; ++i) dst[i] = 0;
    for (int64_t e = 0; e < n; ++e) {
        const float w = src[e];
        const int q = std::fabs(w) < 1e-6f ? 1 : (w > 0.0f ? 2 : 0);
        const int64_t block = e / 128;
        const int j = static_cast<int>(e % 128);
        uint8_t& byte = dst[block * 32 + j % 32];
        byte = static_cast<uint8_t>(byte | (q << (6 - 2 * (j / 32))));
    }
    // Tail: the scale repeated eight times (what BitNet's converter writes; only the first is read).
    for (int i = 0; i < 8; ++i) store_f32(dst + n / 4 + 4 * i, scale);
}

}  // namespace bonsai::quant
