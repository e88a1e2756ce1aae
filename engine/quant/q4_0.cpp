// Q4_0 (formats.md §2.3.3): 32 values, 18 bytes = fp16 d, then 16 bytes; value j (0..15) is the low
// nibble of byte j, value j+16 the high nibble; x = d * (q - 8).
// Quantizer (llama.cpp's reference): d = (the value with the largest |x|, first one on ties) / -8,
// q = min(15, trunc(x / d + 8.5)).
#include "quant/quant_detail.h"

namespace bonsai::quant {

namespace {
constexpr int kBlock = 32;
constexpr int kBytes = 18;

// trunc(v + 8.5) clamped to 0..15 (NaN -> 8, i.e. zero).
uint8_t nibble(float v) {
    float t = v + 8.5f;
    if (std::isnan(t)) return 8;
    if (t < 0.0f) t = 0.0f;
    if (t > 15.0f) t = 15.0f;
    return static_cast<uint8_t>(static_cast<int>(t));
}
}  // namespace

void dequant_q4_0(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const uint8_t* blk = src + b * kBytes;
        const float d = load_half(blk);
        float* y = dst + b * kBlock;
        for (int j = 0; j < 16; ++j) {
            y[j] = static_cast<float>((blk[2 + j] & 0x0f) - 8) * d;
            y[j + 16] = static_cast<float>((blk[2 + j] >> 4) - 8) * d;
        }
    }
}

void quant_q4_0(const float* src, uint8_t* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const float* x = src + b * kBlock;
        uint8_t* blk = dst + b * kBytes;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < kBlock; ++j) {
            if (amax < std::fabs(x[j])) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_u16(blk, fp32_to_fp16(d));
        for (int j = 0; j < 16; ++j) {
            blk[2 + j] = static_cast<uint8_t>(nibble(x[j] * id) | (nibble(x[j + 16] * id) << 4));
        }
    }
}

}  // namespace bonsai::quant
