// Q1_0 (bonsai-formats.md §1; upstream id 41 = PrismML "Q1_0_g128"): 128 values, 18 bytes =
// fp16 d, then 16 bytes of sign bits, LSB first; bit 1 -> +d, bit 0 -> -d (no zero value).
// Quantizer (llama.cpp's reference): d = (sum of |x| in element order) / 128, bit = (x >= 0).
#include <bit>
#include <cstring>

#include "quant/quant_detail.h"

namespace bonsai::quant {

namespace {
constexpr int kBlock = 128;
constexpr int kBytes = 18;
}  // namespace

void dequant_q1_0(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const uint8_t* blk = src + b * kBytes;
        // The sign bits and d in locals: read through blk, every float store could alias them (a byte
        // pointer), which kept the loop scalar with a reload per value (5.4 ns per value on a Zen 3, the
        // Vulkan path's embedding rows of an 8B pp512 took ~18 ms of its ~85).
        uint8_t bits[kBlock / 8];
        std::memcpy(bits, blk + 2, sizeof bits);
        const uint32_t d = std::bit_cast<uint32_t>(load_half(blk));
        float* y = dst + b * kBlock;
        // Bit 1 -> +d, bit 0 -> -d: a clear bit flips d's sign bit (exactly what negation does).
        for (int i = 0; i < kBlock / 8; ++i) {
            const uint32_t m = ~static_cast<uint32_t>(bits[i]);
            for (int k = 0; k < 8; ++k) y[8 * i + k] = std::bit_cast<float>(d ^ (((m >> k) & 1u) << 31));
        }
    }
}

void quant_q1_0(const float* src, uint8_t* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const float* x = src + b * kBlock;
        uint8_t* blk = dst + b * kBytes;
        float sum = 0.0f;
        for (int j = 0; j < kBlock; ++j) sum += std::fabs(x[j]);
        store_u16(blk, fp32_to_fp16(sum / static_cast<float>(kBlock)));
        for (int j = 0; j < 16; ++j) blk[2 + j] = 0;
        for (int j = 0; j < kBlock; ++j) {
            if (x[j] >= 0.0f) blk[2 + j / 8] = static_cast<uint8_t>(blk[2 + j / 8] | (1u << (j % 8)));
        }
    }
}

}  // namespace bonsai::quant
