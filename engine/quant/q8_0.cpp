// Q8_0 (formats.md §2.3.2): 32 values, 34 bytes = fp16 d, then 32 int8 q; x = d * q.
// Quantizer (llama.cpp's reference): d = amax / 127, q = round(x / d) computed as x * (1/d).
#include "quant/quant_detail.h"

namespace bonsai::quant {

namespace {
constexpr int kBlock = 32;
constexpr int kBytes = 34;
}  // namespace

void dequant_q8_0(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const uint8_t* blk = src + b * kBytes;
        const float d = load_half(blk);
        for (int j = 0; j < kBlock; ++j) dst[b * kBlock + j] = static_cast<float>(static_cast<int8_t>(blk[2 + j])) * d;
    }
}

void quant_q8_0(const float* src, uint8_t* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const float* x = src + b * kBlock;
        uint8_t* blk = dst + b * kBytes;
        const float d = abs_max(x, kBlock) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_u16(blk, fp32_to_fp16(d));
        for (int j = 0; j < kBlock; ++j) {
            blk[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(round_clamp(x[j] * id, -127, 127, 0)));
        }
    }
}

}  // namespace bonsai::quant
