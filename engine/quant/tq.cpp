// TQ1_0 and TQ2_0 (formats.md §2.3.8-9): 256 ternary values per block, fp16 d LAST.
// TQ1_0 (54 bytes): qs[48] (5 trits/byte), qh[4] (4 trits/byte). Element order: 32n + m = digit n of
//   qs[m] (m < 32); 160 + 16n + m = digit n of qs[32 + m]; 240 + 4n + m = digit n of qh[m].
// TQ2_0 (66 bytes): qs[64]; element 128c + 32l + m = bits 2l..2l+1 of qs[32c + m].
// Value (t - 1) * d. Quantizer (llama.cpp's reference): d = amax, t = lround(x * (1/d)) + 1.
#include "quant/quant_detail.h"

namespace bonsai::quant {

namespace {
constexpr int kQK = 256;

// Byte index (0..51, qh continuing after qs) and digit of TQ1_0 element e.
void locate_tq1(int e, int& byte, int& digit) {
    if (e < 160) {
        byte = e % 32;
        digit = e / 32;
    } else if (e < 240) {
        byte = 32 + (e - 160) % 16;
        digit = (e - 160) / 16;
    } else {
        byte = 48 + (e - 240) % 4;
        digit = (e - 240) / 4;
    }
}
}  // namespace

void dequant_tq1_0(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8_t* blk = src + b * 54;
        const float d = load_half(blk + 52);
        float* y = dst + b * kQK;
        for (int e = 0; e < kQK; ++e) {
            int byte = 0, digit = 0;
            locate_tq1(e, byte, digit);
            y[e] = static_cast<float>(trit(blk[byte], digit) - 1) * d;
        }
    }
}

void quant_tq1_0(const float* src, uint8_t* dst, int64_t n) {
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float* x = src + b * kQK;
        uint8_t* blk = dst + b * 54;
        const float d = abs_max(x, kQK);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int trits[52][5] = {};
        for (int e = 0; e < kQK; ++e) {
            int byte = 0, digit = 0;
            locate_tq1(e, byte, digit);
            trits[byte][digit] = round_clamp(x[e] * id, -1, 1, 0) + 1;
        }
        for (int i = 0; i < 48; ++i) blk[i] = pack_trits(trits[i], 5);
        for (int i = 48; i < 52; ++i) blk[i] = pack_trits(trits[i], 4);
        store_u16(blk + 52, fp32_to_fp16(d));
    }
}

void dequant_tq2_0(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8_t* blk = src + b * 66;
        const float d = load_half(blk + 64);
        float* y = dst + b * kQK;
        for (int c = 0; c < 2; ++c) {
            for (int l = 0; l < 4; ++l) {
                for (int m = 0; m < 32; ++m) {
                    const int q = (blk[32 * c + m] >> (2 * l)) & 3;
                    y[128 * c + 32 * l + m] = static_cast<float>(q - 1) * d;
                }
            }
        }
    }
}

void quant_tq2_0(const float* src, uint8_t* dst, int64_t n) {
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float* x = src + b * kQK;
        uint8_t* blk = dst + b * 66;
        const float d = abs_max(x, kQK);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int i = 0; i < 64; ++i) blk[i] = 0;
        for (int c = 0; c < 2; ++c) {
            for (int l = 0; l < 4; ++l) {
                for (int m = 0; m < 32; ++m) {
                    const int q = round_clamp(x[128 * c + 32 * l + m] * id, -1, 1, 0) + 1;
                    blk[32 * c + m] = static_cast<uint8_t>(blk[32 * c + m] | (q << (2 * l)));
                }
            }
        }
        store_u16(blk + 64, fp32_to_fp16(d));
    }
}

}  // namespace bonsai::quant
