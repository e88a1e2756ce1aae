// PTQ1_0 (PrismML fork id 143, bonsai-formats.md §3.2): 128 ternary values, 28 bytes =
// qs[24] (5 trits per byte), qh[2] (4 trits per byte), fp16 d LAST (bytes 26..27).
// Element order: 0..79 = digit e/16 of qs[e%16]; 80..119 = digit (e-80)/8 of qs[16 + (e-80)%8];
// 120..127 = digit (e-120)/2 of qh[(e-120)%2]. Value (t - 1) * d.
// Quantizer: d = amax, t = round(x / d) + 1, bytes packed with TQ1_0's ceil(v * 256 / 243).
#include "quant/quant_detail.h"

namespace bonsai::quant {

namespace {
constexpr int kBlock = 128;
constexpr int kBytes = 28;

// Source byte index (0..25, qh continuing after qs) and digit of element e.
void locate(int e, int& byte, int& digit) {
    if (e < 80) {
        byte = e % 16;
        digit = e / 16;
    } else if (e < 120) {
        byte = 16 + (e - 80) % 8;
        digit = (e - 80) / 8;
    } else {
        byte = 24 + (e - 120) % 2;
        digit = (e - 120) / 2;
    }
}
}  // namespace

void dequant_ptq1_0(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const uint8_t* blk = src + b * kBytes;
        const float d = load_half(blk + 26);
        float* y = dst + b * kBlock;
        for (int e = 0; e < kBlock; ++e) {
            int byte = 0, digit = 0;
            locate(e, byte, digit);
            y[e] = static_cast<float>(trit(blk[byte], digit) - 1) * d;
        }
    }
}

void quant_ptq1_0(const float* src, uint8_t* dst, int64_t n) {
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const float* x = src + b * kBlock;
        uint8_t* blk = dst + b * kBytes;
        const float d = abs_max(x, kBlock);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int trits[26][5] = {};
        for (int e = 0; e < kBlock; ++e) {
            int byte = 0, digit = 0;
            locate(e, byte, digit);
            trits[byte][digit] = round_clamp(x[e] * id, -1, 1, 0) + 1;
        }
        for (int i = 0; i < 24; ++i) blk[i] = pack_trits(trits[i], 5);
        for (int i = 24; i < 26; ++i) blk[i] = pack_trits(trits[i], 4);
        store_u16(blk + 26, fp32_to_fp16(d));
    }
}

}  // namespace bonsai::quant
